"""activityStream: cursors that resume without gap or duplicate, from another gateway
process and after the first one was killed mid-stream, with concurrent writers; account
scoping and ``where`` on the replay; invalid and expired cursors."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.account.keys import create_api_key
from app.account.setup import create_account
from app.activities.stream import activity_stream
from app.auth import ALL_SCOPES
from app.db import ACTIVITIES, connect
from app.embedded import EmbeddedMongo
from app.settings import Settings
from app.tenant import Tenant
from tests.conftest import Api, email_contact
from tests.live import GraphQLWebSocket, graphql_ws, live_server
from tests.test_cli_and_serve import Served

STREAM = """subscription($where: ActivityWhere, $after: String) { activityStream(where: $where, after: $after) {
  cursor activity { action properties contact { email } } } }"""
RECORD = """mutation($c: String!, $a: String!, $p: Properties) {
  eventRecord(input: {contact: $c, action: $a, properties: $p}) { userErrors { code } } }"""


async def record(api: Api, key: str, action: str, **properties: Any) -> None:
    data = await api.ok(RECORD, {"c": "a@example.com", "a": action, "p": properties}, key=key)
    assert data["eventRecord"]["userErrors"] == []


async def next_event(ws: GraphQLWebSocket, timeout: float = 10) -> dict[str, Any]:  # noqa: ASYNC109
    message = await ws.receive(timeout)
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message["payload"]
    event: dict[str, Any] = message["payload"]["data"]["activityStream"]
    return event


async def open_stream(
    base: str, key: str, where: dict[str, Any] | None = None, after: str | None = None
) -> Any:
    context = graphql_ws(base, payload={"Authorization": f"Bearer {key}"})
    ws = await context.__aenter__()
    assert (await ws.receive())["type"] == "connection_ack"
    await ws.subscribe("1", STREAM, {"where": where, "after": after})
    return context, ws


@pytest.fixture
async def keys(api: Api) -> tuple[str, str]:
    alpha = await api.account("alpha")
    beta = await api.account("beta")
    await api.contacts("alpha", email_contact("a@example.com"))
    await api.contacts("beta", email_contact("a@example.com"))
    return alpha, beta


async def test_a_stream_starts_with_a_checkpoint_and_resumes_exactly_after_a_cursor(
    api: Api, settings: Settings, keys: tuple[str, str]
) -> None:
    alpha, beta = keys
    async with live_server(settings) as base:
        context, ws = await open_stream(base, alpha, {"action": "browse"})
        checkpoint = await next_event(ws)
        for n in range(3):
            await record(api, alpha, "browse", n=n)
        live = [await next_event(ws) for _ in range(3)]
        await context.__aexit__(None, None, None)
        # recorded while nobody listens: other accounts' and other actions' activities too
        await record(api, beta, "browse", n="beta")
        await record(api, alpha, "cart", n="cart")
        for n in range(3, 6):
            await record(api, alpha, "browse", n=n)

        context, ws = await open_stream(base, alpha, {"action": "browse"}, after=live[0]["cursor"])
        replayed = [await next_event(ws) for _ in range(5)]
        await record(api, alpha, "browse", n=6)
        after_replay = await next_event(ws)
        with pytest.raises(TimeoutError):
            await ws.receive(timeout=1.5)
        await context.__aexit__(None, None, None)

        context, ws = await open_stream(base, alpha, {"action": "browse"}, after=checkpoint["cursor"])
        from_checkpoint = [await next_event(ws) for _ in range(7)]
        await context.__aexit__(None, None, None)

    assert checkpoint["activity"] is None
    assert [e["activity"]["properties"]["n"] for e in live] == [0, 1, 2]
    assert [e["activity"]["properties"]["n"] for e in replayed] == [1, 2, 3, 4, 5]
    assert after_replay["activity"]["properties"] == {"n": 6}
    assert [e["activity"]["properties"]["n"] for e in from_checkpoint] == [0, 1, 2, 3, 4, 5, 6]
    assert len({e["cursor"] for e in [*live, *replayed, after_replay]}) == 7
    assert [e["cursor"] for e in replayed[:2]] == [e["cursor"] for e in live[1:]]


@pytest.mark.parametrize("after", ["nonsense", "", "AAAA", "x" * 2000, "DAAAAAJfZGF0YQAA"])
async def test_a_cursor_that_is_not_one_is_invalid_cursor(
    settings: Settings, keys: tuple[str, str], after: str
) -> None:
    async with live_server(settings) as base:
        context, ws = await open_stream(base, keys[0], after=after)
        message = await ws.receive()
        await context.__aexit__(None, None, None)

    assert message["type"] == "error" or message["payload"].get("errors"), message
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "INVALID_CURSOR"


async def test_a_cursor_older_than_the_oplog_is_cursor_expired_never_a_silent_gap(tmp_path: Path) -> None:
    """A database of its own keeping only 30 oplog entries: a cursor 100 writes old is gone."""
    if Settings().mongodb_uri:
        pytest.skip("needs the embedded engine's oplog size option; MONGODB_URI is set")
    with EmbeddedMongo(None, extra_args=("--oplog-max-entries", "30")) as server:
        settings = Settings(
            MONGODB_URI=server.uri,
            MONGODB_DB="expiry",
            CONTACTGRAPH_RUN_JOBS=False,
            CONTACTGRAPH_DATA_DIR=tmp_path,
            CONTACTGRAPH_ACCOUNT_CACHE_S=0,
        )
        client = connect(settings)
        db = client[settings.mongodb_db]
        try:
            await create_account(db, "alpha", "alpha")
            key, _ = await create_api_key(Tenant("alpha", db), "test", ALL_SCOPES)
            async with live_server(settings) as base:
                context, ws = await open_stream(base, key)
                checkpoint = await next_event(ws)
                await context.__aexit__(None, None, None)
                for i in range(100):  # 100 oplog entries; the engine then trims to 30
                    await db[ACTIVITIES].insert_one({"accountId": "alpha", "action": "x", "n": i})
                await client.admin.command({"secantusAdmin.pruneOplog": 1})

                context, ws = await open_stream(base, key, after=checkpoint["cursor"])
                message = await ws.receive()
                await context.__aexit__(None, None, None)
        finally:
            await client.close()

    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "ACTIVITY_STREAM_CURSOR_EXPIRED"
    assert "re-sync" in errors[0]["message"]


async def test_killing_the_gateway_mid_stream_loses_nothing_and_repeats_nothing(
    api: Api, settings: Settings, keys: tuple[str, str]
) -> None:
    """Three writers record 40 events each while a gateway process streams them; it is
    killed (SIGKILL) after 30 events; a second process resumes from the last cursor
    received. The union of both streams is exactly the recorded set."""
    alpha, beta = keys
    env = {
        **os.environ,
        "MONGODB_URI": settings.mongodb_uri or "",
        "MONGODB_DB": settings.mongodb_db,
        "CONTACTGRAPH_RUN_JOBS": "false",
        "CONTACTGRAPH_DATA_DIR": str(settings.data_dir),
        "CONTACTGRAPH_LOG_LEVEL": "WARNING",
    }
    first = Served(env)
    second: Served | None = None
    recorded: list[str] = []
    try:
        await asyncio.to_thread(first.wait_ready)
        context, ws = await open_stream(first.url, alpha, {"actions": ["browse", "cart"]})
        await next_event(ws)  # the checkpoint: the stream is open

        async def writer(name: str, noise: Callable[[int], Any]) -> None:
            for i in range(40):
                action = "browse" if i % 2 else "cart"
                await record(api, alpha, action, id=f"{name}-{i}")
                recorded.append(f"{name}-{i}")
                await noise(i)
                await asyncio.sleep(0.01)

        async def other_account(i: int) -> None:
            await record(api, beta, "browse", id=f"beta-{i}")

        async def other_action(i: int) -> None:
            await record(api, alpha, "pageview-ish", id=f"filtered-{i}")

        async def nothing(i: int) -> None:
            return None

        writers = asyncio.gather(
            writer("w1", other_account), writer("w2", other_action), writer("w3", nothing)
        )
        seen_first: list[str] = []
        last_cursor = ""
        while len(seen_first) < 30:
            event = await next_event(ws, timeout=30)
            if event["activity"] is not None:
                seen_first.append(event["activity"]["properties"]["id"])
            last_cursor = event["cursor"]
        first.process.kill()  # mid-stream, while the writers go on
        first.process.wait(30)
        with contextlib.suppress(Exception):  # the server is gone, so is its socket
            await context.__aexit__(None, None, None)

        second = Served(env)
        await asyncio.to_thread(second.wait_ready)
        context, ws = await open_stream(second.url, alpha, {"actions": ["browse", "cart"]}, after=last_cursor)
        await writers
        seen_second: list[str] = []
        while len(seen_first) + len(seen_second) < len(recorded):
            event = await next_event(ws, timeout=30)
            if event["activity"] is not None:
                seen_second.append(event["activity"]["properties"]["id"])
        with pytest.raises(TimeoutError):  # and nothing more
            await ws.receive(timeout=2)
        await context.__aexit__(None, None, None)
    finally:
        for server in (first, second):
            if server is not None and server.process.poll() is None:
                server.process.kill()
                server.process.wait(30)

    assert len(recorded) == 120
    assert sorted(seen_first + seen_second) == sorted(recorded)
    assert len(set(seen_first + seen_second)) == len(seen_first) + len(seen_second)
    assert len(seen_first) >= 30
    assert seen_second, "the kill came before the writers were done"


async def test_a_quiet_stream_sends_checkpoints_that_keep_its_cursor_current(
    api: Api, keys: tuple[str, str]
) -> None:
    """Activities the filter leaves out move the position on: a checkpoint carries it, and
    resuming from it replays nothing from before."""
    stream = activity_stream(Tenant("alpha", api.db), {"action": "browse"}, None, checkpoint_s=0.3)
    start, nothing = await anext(stream)
    await record(api, keys[0], "cart", n=0)
    moved, still_nothing = await anext(stream)
    await stream.aclose()
    await record(api, keys[0], "browse", n=1)
    resumed = activity_stream(Tenant("alpha", api.db), {"action": "browse"}, moved, checkpoint_s=60)
    cursor, activity = await anext(resumed)
    await resumed.aclose()

    assert (nothing, still_nothing) == (None, None)
    assert moved != start
    assert activity is not None
    assert activity["properties"] == {"n": 1}
    assert cursor not in (start, moved)
