"""The cost budget is one per API key across every gateway replica: leased from MongoDB in
slices (app/ratelimit.py), so two `serve` processes on one database give a key one budget."""

from __future__ import annotations

import asyncio
import os

import httpx
import pytest

from app.db import RATE_LIMITS
from app.settings import Settings
from tests.conftest import Api, CommandCounter, app_client
from tests.test_cli_and_serve import Served

# Twenty objects, so twenty points requested and twenty spent.
TWENTY = "{ " + " ".join(f"a{i}: account {{ id }}" for i in range(20)) + " }"


async def test_a_replica_leases_a_slice_at_a_time_not_a_command_per_request(
    api: Api, settings: Settings, db_name: str
) -> None:
    key = await api.account("acme")
    counter = CommandCounter(db_name)
    small = settings.model_copy(
        update={"rate_limit_capacity": 1000, "rate_limit_restore_rate": 1, "rate_limit_slice": 100}
    )
    async with app_client(small, key=key, listeners=[counter]) as http:
        bodies = [(await http.post("/graphql", json={"query": TWENTY})).json() for _ in range(20)]

    assert all("errors" not in b for b in bodies)
    assert counter.leases == 4  # 400 points in slices of 100
    stored = await api.db[RATE_LIMITS].find_one({"accountId": "acme"})
    assert stored is not None
    assert stored["level"] == pytest.approx(600, abs=5)  # 1,000 less the four slices (plus a little refill)
    assert bodies[-1]["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == pytest.approx(
        600, abs=5
    )


async def test_a_refused_lease_is_not_asked_again_until_the_refill_could_cover_it(
    api: Api, settings: Settings, db_name: str
) -> None:
    key = await api.account("acme")
    counter = CommandCounter(db_name)
    small = settings.model_copy(
        update={"rate_limit_capacity": 100, "rate_limit_restore_rate": 1, "rate_limit_slice": 100}
    )
    async with app_client(small, key=key, listeners=[counter]) as http:
        answers = [(await http.post("/graphql", json={"query": TWENTY})).json() for _ in range(10)]

    codes = [a["errors"][0]["extensions"]["code"] if "errors" in a else "OK" for a in answers]
    assert codes == ["OK"] * 5 + ["THROTTLED"] * 5
    assert counter.leases == 2  # the slice of 100, then one refused lease; the rest refused locally
    retry = answers[-1]["errors"][0]["extensions"]["retryAfterSeconds"]
    assert 15 < retry <= 20  # 20 points at 1 a second


async def test_two_serve_processes_give_a_key_one_budget(api: Api, settings: Settings) -> None:
    """Each of two replicas alone could admit 2,000 points; together they admit one budget
    of 2,000 (and a little refill), within 10%."""
    key = await api.account("acme")
    env = {
        **os.environ,
        "MONGODB_URI": settings.mongodb_uri or "",
        "MONGODB_DB": settings.mongodb_db,
        "CONTACTGRAPH_RUN_JOBS": "false",
        "CONTACTGRAPH_RATE_LIMIT_CAPACITY": "2000",
        "CONTACTGRAPH_RATE_LIMIT_RESTORE_RATE": "1",
        "CONTACTGRAPH_RATE_LIMIT_SLICE": "100",
        "CONTACTGRAPH_DATA_DIR": str(settings.data_dir),
    }
    replicas = [Served(env), Served(env)]
    try:
        for replica in replicas:
            replica.wait_ready()
        admitted = 0
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
            spent = [0] * len(replicas)
            throttled = [False] * len(replicas)
            first_refusals: list[object] = []

            async def spend(index: int) -> None:
                if throttled[index]:
                    return
                body = (await http.post(replicas[index].url + "/graphql", json={"query": TWENTY})).json()
                if "errors" in body:
                    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
                    throttled[index] = True
                    first_refusals.append((index, spent[index], body["errors"][0]["extensions"]))
                else:
                    spent[index] += body["extensions"]["cost"]["actualQueryCost"]

            # In lockstep, one request to each replica per round, so that a replica slowed
            # down by the machine's load still draws on the budget while the other does.
            for _ in range(200):
                await asyncio.gather(*(spend(i) for i in range(len(replicas))))
                if all(throttled):
                    break
            admitted = sum(spent)
    finally:
        for replica in replicas:
            replica.stop()

    # Both replicas were asked in every round; together they admitted one budget. (In the
    # full suite on a loaded 2-core machine one replica has been refused its first lease:
    # the split is printed for that investigation, the shared total is what is asserted.)
    print("admitted per replica", spent, "first refusals", first_refusals)
    assert 1800 <= admitted <= 2200, (spent, first_refusals)
