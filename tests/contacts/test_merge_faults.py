"""contactMerge under faults and concurrency: every merge is complete or never happened.

50 randomized merges, each with a random option set and a random fault injected with
configureFailPoint (the Nth write of a kind fails, or the connection closes mid-
transaction); then merges racing over overlapping contacts."""

from __future__ import annotations

import asyncio
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from app.activities import repository as activities
from app.commerce import repository as orders
from app.contacts.merge import OPTIONS
from app.db import ACTIVITIES, CONTACT_ALIASES, CONTACTS, ORDERS
from app.tenant import Tenant
from tests.conftest import Api, FailPoint

MERGE = """mutation($input: ContactMergeInput!) { contactMerge(input: $input) {
  mergedCID activitiesDropped ordersDropped userErrors { code message } } }"""
CAMEL = {"email_channels": "emailChannels", "sms_channels": "smsChannels", "push_channels": "pushChannels"}


@dataclass
class State:
    contacts: dict[ObjectId, dict[str, Any]]
    activities: dict[ObjectId, ObjectId]  # activity id → cID
    orders: dict[ObjectId, ObjectId]
    aliases: dict[ObjectId, ObjectId]


async def state(api: Api) -> State:
    return State(
        contacts={d["_id"]: d async for d in api.db[CONTACTS].find({"accountId": "acme"})},
        activities={d["_id"]: d["cID"] async for d in api.db[ACTIVITIES].find({"accountId": "acme"})},
        orders={d["_id"]: d["cID"] async for d in api.db[ORDERS].find({"accountId": "acme"})},
        aliases={d["cID"]: d["survivor"] async for d in api.db[CONTACT_ALIASES].find({"accountId": "acme"})},
    )


async def populate(api: Api, rng: random.Random, n: int) -> list[ObjectId]:
    docs = []
    for i in range(n):
        doc: dict[str, Any] = {
            "channels": {"email": {"address": f"c{i}@example.com", "subscribeStatus": "none"}},
            "attributes": {"custID": f"K{i}", "points": i},
            "lists": rng.sample(["safe-driver", "auto-enthusiast"], rng.randint(0, 2)),
            "supplements": {"n": i},
        }
        if rng.random() < 0.5:
            doc["channels"]["sms"] = {"address": f"1619555{i:04d}"}
        if rng.random() < 0.5:
            doc["cart"] = {
                "items": [{"productID": f"P{i}", "qty": 1}],
                "lastModified": datetime(2025, 1, 1 + i % 20, tzinfo=UTC),
            }
        docs.append(doc)
    cids = await api.contacts("acme", *docs)
    now = datetime.now(UTC)
    for i, cid in enumerate(cids):
        await activities.insert_many(
            Tenant("acme", api.db),
            [{"cID": cid, "action": "browse", "ats": now} for _ in range(rng.randint(0, 3))],
        )
        await orders.insert_many(
            Tenant("acme", api.db),
            [{"cID": cid, "orderID": f"O{i}-{k}", "purchaseDate": now} for k in range(rng.randint(0, 2))],
        )
    return cids


def random_options(rng: random.Random) -> dict[str, str]:
    return {CAMEL.get(k, k): rng.choice(values) for k, values in OPTIONS.items()}


def as_enums(options: dict[str, str]) -> dict[str, str]:
    """The reference's values as the GraphQL enums name them (sourceContact: SOURCE_CONTACT)."""
    return {k: re.sub(r"(?<!^)(?=[A-Z])", "_", v).upper() for k, v in options.items()}


def check_complete(
    before: State, after: State, src: ObjectId, dst: ObjectId, options: dict[str, str]
) -> None:
    assert src not in after.contacts
    assert after.aliases[src] == dst
    assert all(s != src for s in after.aliases.values())
    assert set(after.contacts) == set(before.contacts) - {src}
    for cid, doc in after.contacts.items():  # nobody else was touched
        if cid != dst:
            assert doc == before.contacts[cid]
    assert after.contacts[dst]["version"] == before.contacts[dst]["version"] + 1
    for name, option in (("activities", "events"), ("orders", "orders")):
        was: dict[ObjectId, ObjectId] = getattr(before, name)
        now: dict[ObjectId, ObjectId] = getattr(after, name)
        of_source = {i for i, c in was.items() if c == src}
        if options[option] == "merge":
            assert now == {i: (dst if c == src else c) for i, c in was.items()}
        else:
            assert now == {i: c for i, c in was.items() if i not in of_source}


async def test_fifty_randomized_merges_under_faults_are_all_or_nothing(
    api: Api, key: str, failpoint: FailPoint
) -> None:
    rng = random.Random(20261122)
    await populate(api, rng, 70)
    await api.ok(
        "{ account { id } }", key=key
    )  # the key's lastUsedAt stays fresh: no write outside the merge
    outcomes = {"complete": 0, "unchanged": 0}

    for _ in range(50):
        before = await state(api)
        src, dst = rng.sample(sorted(before.contacts), 2)
        options = random_options(rng)
        fault = rng.choice(["fail", "fail", "close", "none"])
        command = rng.choice(["update", "delete", "insert"])
        if fault == "fail":
            await failpoint.fail([command], skip=rng.randint(0, 2))
        elif fault == "close":
            await failpoint.fail([command], times=1, closeConnection=True)
        given = {"sourceContact": str(src), "destinationContact": str(dst), "options": as_enums(options)}
        body = await api.gql(MERGE, {"input": given}, key=key)
        await failpoint.off()

        after = await state(api)
        if src in after.contacts:
            assert after == before, (fault, command, body)
            assert body.get("errors") or body["data"]["contactMerge"]["userErrors"]
            outcomes["unchanged"] += 1
        else:
            check_complete(before, after, src, dst, {k: options[CAMEL.get(k, k)] for k in OPTIONS})
            assert body["data"]["contactMerge"]["mergedCID"] == str(src)
            outcomes["complete"] += 1

    assert outcomes["complete"] >= 5
    assert outcomes["unchanged"] >= 5


async def test_concurrent_merges_over_overlapping_contacts_never_corrupt_data(api: Api, key: str) -> None:
    rng = random.Random(7)
    cids = await populate(api, rng, 8)
    before = await state(api)
    options = {**random_options(rng), "events": "merge", "orders": "merge"}
    pairs = [(cids[i % 8], cids[(i * 3 + 1) % 8]) for i in range(12)]
    pairs = [(s, d) for s, d in pairs if s != d]

    async def merge(src: ObjectId, dst: ObjectId) -> dict[str, Any]:
        given = {"sourceContact": str(src), "destinationContact": str(dst), "options": as_enums(options)}
        return await api.gql(MERGE, {"input": given}, key=key)

    results = await asyncio.gather(*(merge(s, d) for s, d in pairs))

    after = await state(api)
    merged = [
        r["data"]["contactMerge"]["mergedCID"]
        for r in results
        if r.get("data") and r["data"]["contactMerge"]["mergedCID"]
    ]
    assert merged, results
    for r in results:
        if r.get("data") and not r["data"]["contactMerge"]["mergedCID"]:
            assert {e["code"] for e in r["data"]["contactMerge"]["userErrors"]} <= {
                "CONTACTS_CONTACT_NOT_FOUND",
                "VALIDATION_ERROR",
                "CONTACTS_VERSION_CONFLICT",
            }
    assert len(after.contacts) == len(before.contacts) - len(merged)
    assert set(after.activities) == set(before.activities)  # conserved
    assert set(after.orders) == set(before.orders)
    assert all(c in after.contacts for c in after.activities.values())  # nothing dangles
    assert all(c in after.contacts for c in after.orders.values())
    assert all(s in after.contacts for s in after.aliases.values())
    assert {ObjectId(m) for m in merged} == set(after.aliases)
    emails = [
        c["channels"]["email"]["address"] for c in after.contacts.values() if c["channels"].get("email")
    ]
    assert len(emails) == len(set(emails))
