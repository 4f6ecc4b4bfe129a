"""Randomized tenancy: 1,000+ reads, writes, merges, job operations, downloads and subscriptions made with
account A's key on account B's identifiers. None succeeds, B's data never changes, and each
answer is exactly what A gets for an identifier that does not exist at all."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from strawberry.relay import to_base64

from app.activities import repository as activities
from app.commerce import repository as orders
from app.jobs import repository as jobs
from app.settings import Settings
from app.tenant import Tenant
from tests.conftest import Api, email_contact
from tests.live import graphql_ws, live_server

COLLECTIONS = [
    "contacts",
    "activities",
    "orders",
    "jobs",
    "activityReports",
    "contactAliases",
    "downloads.files",
]
REF_FORMS = ["{cid}", "cID:{cid}", "{email}", "email:{email}", "custID:{cust}", "sms:{sms}"]
OPS: list[tuple[str, str]] = [
    ("query($r: String!) { contact(ref: $r) { cID email } }", "ref"),
    ("query($r: String) { contacts(where: {emailAddress: $r}) { totalCount } }", "email"),
    ("query($r: String) { activities(where: {contact: $r}) { totalCount } }", "ref"),
    ("query($r: String) { orders(where: {contact: $r}) { totalCount } }", "ref"),
    ("query($i: ID!) { node(id: $i) { id } }", "node"),
    ("query($i: ID!) { job(id: $i) { id state } }", "job"),
    ("query($i: ID!) { activityReport(id: $i) { id } }", "report"),
    (
        'mutation($r: String!) { contactUpdate(ref: $r, input: {attributes: [{key: "custID", value: "X"}]}) { userErrors { code } } }',
        "ref",
    ),
    ("mutation($r: String!) { contactDelete(ref: $r) { userErrors { code } } }", "ref"),
    ("mutation($r: String!) { contactUnsubscribe(ref: $r) { userErrors { code } } }", "ref"),
    ("mutation($r: String!) { cartClear(ref: $r) { userErrors { code } } }", "ref"),
    ('mutation($r: String!) { cartItemRemove(ref: $r, productID: "P1") { userErrors { code } } }', "ref"),
    (
        'mutation($r: String!) { orderRecord(input: {contact: $r, orderID: "Z"}) { userErrors { code } } }',
        "ref",
    ),
    (
        'mutation($r: String!) { eventRecord(input: {contact: $r, action: "browse"}) { userErrors { code } } }',
        "ref",
    ),
    ("mutation($r: String!) { contactProfileExport(ref: $r) { userErrors { code } } }", "ref"),
    ("mutation($i: ID!) { jobCancel(id: $i) { userErrors { code } } }", "job"),
    ("mutation($i: ID!) { activityReportDelete(id: $i) { userErrors { code } } }", "report"),
    ("merge-source", "merge"),
    ("merge-destination", "merge"),
    ("download-job", "download"),
    ("download-report", "download"),
]
MERGE = """mutation($s: String!, $d: String!) { contactMerge(input: {sourceContact: $s, destinationContact: $d, options: {
  orders: MERGE, events: MERGE, cart: LAST_MODIFIED, lists: SOURCE_CONTACT, attributes: SOURCE_CONTACT,
  supplements: SOURCE_CONTACT, emailChannels: SOURCE_CONTACT, smsChannels: SOURCE_CONTACT, pushChannels: MERGE}}) {
  mergedCID userErrors { code } } }"""


async def snapshot(api: Api, account: str) -> dict[str, list[dict[str, Any]]]:
    result = {}
    for name in COLLECTIONS:
        filter_ = {"metadata.accountId": account} if name == "downloads.files" else {"accountId": account}
        result[name] = await api.db[name].find(filter_).sort("_id", 1).to_list()
    return result


@pytest.fixture
async def world(api: Api) -> dict[str, Any]:
    key_a = await api.account("alpha", secondary_keys=("custID",))
    key_b = await api.account("beta", secondary_keys=("custID",))
    [mine] = await api.contacts("alpha", email_contact("mine@example.com", attributes={"custID": "A1"}))
    contacts = []
    for i in range(5):
        doc = email_contact(
            f"b{i}@example.com",
            attributes={"custID": f"B{i}"},
            cart={"items": [{"productID": "P1", "qty": 1}]},
        )
        doc["channels"]["sms"] = {"address": f"1619777000{i}"}
        contacts.append(doc)
    cids = await api.contacts("beta", *contacts)
    now = datetime.now(UTC)
    for i, cid in enumerate(cids):
        await activities.insert_many(
            Tenant("beta", api.db),
            [{"cID": cid, "action": "browse", "ats": now - timedelta(hours=i), "mcID": f"m{i}"}],
        )
        await orders.insert_many(
            Tenant("beta", api.db), [{"cID": cid, "orderID": f"B-{i}", "purchaseDate": now}]
        )
    job = await jobs.insert(Tenant("beta", api.db), "profile_export", {"cID": cids[0]}, None)
    file_id, _ = await jobs.store_file(Tenant("beta", api.db), "p.json", "application/json", _one(b"{}"))
    await api.db["jobs"].update_one(
        {"_id": job["_id"]}, {"$set": {"state": "COMPLETED", "result": {"fileId": file_id}}}
    )
    report = {
        "_id": ObjectId(),
        "title": "b",
        "status": "COMPLETED",
        "files": {"aggregated": file_id},
        "createdAt": now,
    }
    await jobs.insert_report(Tenant("beta", api.db), report)
    activity = await api.db["activities"].find_one({"accountId": "beta"})
    order = await api.db["orders"].find_one({"accountId": "beta"})
    assert activity is not None
    assert order is not None
    return {"key_a": key_a, "key_b": key_b, "mine": mine, "cids": cids, "job": job["_id"], "report": report["_id"],
            "activity": activity["_id"], "order": order["_id"]}  # fmt: skip


async def _one(data: bytes) -> Any:
    yield data


def identifiers(world: dict[str, Any], rng: random.Random, real: bool) -> dict[str, Any]:
    """B's identifiers (real) or identifiers that exist nowhere (not real), in the same forms."""
    i = rng.randrange(5)
    cid = world["cids"][i] if real else ObjectId()
    email = f"b{i}@example.com" if real else f"nobody{i}@example.com"
    values = {
        "cid": cid,
        "email": email,
        "cust": f"B{i}" if real else f"N{i}",
        "sms": f"1619777000{i}" if real else f"1619888000{i}",
    }
    node_type, node_id = rng.choice(
        [
            ("Contact", cid),
            ("Activity", world["activity"] if real else ObjectId()),
            ("Order", world["order"] if real else ObjectId()),
        ]
    )
    return {
        "ref": rng.choice(REF_FORMS).format(**values),
        "email": email,
        "node": to_base64(node_type, str(node_id)),
        "job": to_base64("Job", str(world["job"] if real else ObjectId())),
        "report": to_base64("ActivityReport", str(world["report"] if real else ObjectId())),
        "job_url": f"/downloads/jobs/{world['job'] if real else ObjectId()}",
        "report_url": f"/downloads/reports/{world['report'] if real else ObjectId()}/aggregated.csv",
    }


async def run(
    api: Api, key: str, op: tuple[str, str], ids: dict[str, Any], mine: ObjectId, rng_pick: int
) -> Any:
    query, kind = op
    if kind == "download":
        url = ids["job_url"] if query == "download-job" else ids["report_url"]
        response = await api.http.get(url, headers={"Authorization": f"Bearer {key}"})
        return response.status_code, response.json()
    if kind == "merge":
        pair = (
            {"s": ids["ref"], "d": str(mine)}
            if query == "merge-source"
            else {"s": str(mine), "d": ids["ref"]}
        )
        return await api.gql(MERGE, pair, key=key)
    variable = {"ref": "r", "email": "r", "node": "i", "job": "i", "report": "i"}[kind]
    return await api.gql(query, {variable: ids[kind]}, key=key)


async def test_a_thousand_cross_account_operations_all_fail_like_not_found(
    api: Api, world: dict[str, Any]
) -> None:
    rng = random.Random(4242)
    before = await snapshot(api, "beta")
    mine_before = await api.db["contacts"].find_one({"_id": world["mine"]})

    for n in range(1050):
        op = OPS[n % len(OPS)] if n < len(OPS) else rng.choice(OPS)
        seed = rng.random()
        attempt = await run(
            api, world["key_a"], op, identifiers(world, random.Random(seed), real=True), world["mine"], n
        )
        control = await run(
            api, world["key_a"], op, identifiers(world, random.Random(seed), real=False), world["mine"], n
        )
        assert attempt == control, (op[0], attempt, control)

    assert await snapshot(api, "beta") == before
    assert await api.db["contacts"].find_one({"_id": world["mine"]}) == mine_before
    # and B's own key still sees everything
    assert (await api.ok("{ contacts { totalCount } }", key=world["key_b"]))["contacts"]["totalCount"] == 5


SUBSCRIPTIONS = [
    ("subscription($r: String) { activityRecorded(where: {contact: $r}) { cID action } }", "ref", "r"),
    ("subscription($r: String!) { contactChanged(ref: $r) { operation cID } }", "ref", "r"),
    ("subscription($i: ID!) { jobUpdated(id: $i) { id state percentDone } }", "job", "i"),
]
MINE = "subscription($r: String!) { contactChanged(ref: $r) { operation cID } }"
TOUCH = 'mutation($r: String!, $n: JSON!) { contactUpdate(ref: $r, input: {attributes: [{key: "n", value: $n}]}) { userErrors { code } } }'


async def test_cross_account_subscriptions_see_nothing_and_fail_like_not_found(
    api: Api, settings: Settings, world: dict[str, Any]
) -> None:
    """96 subscriptions with A's key on B's identifiers (and as many on identifiers that
    exist nowhere), open while B's contacts, activities and job all change: each pair gets
    the same answer, and not one event of B's reaches A."""
    rng = random.Random(777)
    await api.db["attributeDefinitions"].insert_many(
        [{"accountId": a, "key": "n", "name": "n", "type": "number"} for a in ("alpha", "beta")]
    )
    received: dict[str, list[dict[str, Any]]] = defaultdict(list)

    async with (
        live_server(settings) as base,
        graphql_ws(base, payload={"Authorization": f"Bearer {world['key_a']}"}) as ws,
    ):
        assert (await ws.receive())["type"] == "connection_ack"
        pairs = []
        for n in range(48):
            query, kind, variable = rng.choice(SUBSCRIPTIONS)
            seed = rng.random()
            for label, exists in (("real", True), ("ctrl", False)):
                ids = identifiers(world, random.Random(seed), exists)
                await ws.subscribe(f"{label}{n}", query, {variable: ids[kind]})
            pairs.append(n)
        await ws.subscribe("mine", MINE, {"r": str(world["mine"])})  # 98 and 99 of 100 per connection
        await ws.subscribe("browse", SUBSCRIPTIONS[0][0], {"r": None})  # all of A's activities

        async def until_mine(value: float) -> None:
            """Touch A's own contact until its change arrives; collect everything on the way."""
            for attempt in range(50):  # a new value each time: an unchanged write is no change
                await api.ok(
                    TOUCH, {"r": str(world["mine"]), "n": value * 1000 + attempt}, key=world["key_a"]
                )
                try:
                    while True:
                        message = await ws.receive(timeout=0.3)
                        received[message["id"]].append(message)
                        if message["id"] == "mine":
                            return
                except TimeoutError:
                    continue
            raise AssertionError("A's own subscription never delivered")

        await until_mine(1)  # every stream is open by now
        for i, cid in enumerate(world["cids"]):
            await api.ok(TOUCH, {"r": str(cid), "n": i}, key=world["key_b"])
            record = 'mutation($r: String!) { eventRecord(input: {contact: $r, action: "browse"}) { userErrors { code } } }'
            await api.ok(record, {"r": str(cid)}, key=world["key_b"])
        await api.db["jobs"].update_one({"_id": world["job"]}, {"$set": {"percentDone": 50}})
        await until_mine(2)

    assert len(received["mine"]) >= 2
    assert received["browse"] == []  # B recorded five events meanwhile
    for n in pairs:
        real = [{k: v for k, v in m.items() if k != "id"} for m in received[f"real{n}"]]
        control = [{k: v for k, v in m.items() if k != "id"} for m in received[f"ctrl{n}"]]
        assert real == control, (n, real, control)
        assert all(m["type"] != "next" or m["payload"]["data"] is None for m in real), real  # no event
        assert real, n  # and an answer, the not-found error
