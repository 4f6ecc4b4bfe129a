"""The benchmark workloads (GraphQL documents and variables) and the floor: the same data
fetched with the same AsyncMongoClient by minimal hand-written queries, shaped into the
same response and serialised with orjson, in-process."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from bson import ObjectId

from app.db import Database, Document

ITEM = "productID qty itemPrice"
ORDER_ITEM = "sku qty itemPrice"
CONTACT_FIELDS = f"""cID email
    cart {{ items {{ {ITEM} }} }}
    activities(first: 10) {{ edges {{ node {{ action ats mcID message {{ id name }} }} }} }}
    orders(first: 5) {{ edges {{ node {{ orderID purchaseDate totalAmount items {{ {ORDER_ITEM} }} }} }} }}"""
Q1 = f"query Q1($ref: String!) {{ contact(ref: $ref) {{ {CONTACT_FIELDS} }} }}"
Q2 = f"query Q2($n: Int!) {{ contacts(first: $n) {{ edges {{ node {{ {CONTACT_FIELDS} }} }} }} }}"
Q3 = """query Q3($a: String!, $s: DateTime!, $e: DateTime!) {
  activities(where: {action: $a, ats: {between: {start: $s, end: $e}}}, first: 1000) {
    edges { node { cID action ats mcID } } } }"""
W1 = "mutation W1($e: [EventInput!]!) { eventsRecord(inputs: $e) { recordedCount failedCount } }"
LOOKUP = "query L($r: String!) { contact(ref: $r) { cID } }"
# The seed dates activities back from the day it runs (inside the 18-month retention).
WINDOW_DAYS = 300
W1_ACTION = "bench-w1"  # W1's events, deleted after each measurement (see remove_written)


@dataclass
class Workload:
    name: str
    query: str
    variables: Callable[[random.Random], dict[str, Any]]
    floor: Callable[[Database, dict[str, Any]], Awaitable[bytes]]


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # a nested page's date: UTC, as stored
        return value.isoformat(timespec="milliseconds") + "Z"
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _cart(doc: Document) -> dict[str, Any] | None:
    cart = doc.get("cart")
    if cart is None:
        return None
    return {
        "items": [{k: i.get(k) for k in ("productID", "qty", "itemPrice")} for i in cart.get("items", [])]
    }


async def _nested(db: Database, account: str, contacts: list[Document]) -> list[dict[str, Any]]:
    """Activities (10) and orders (5) per contact, and the activities' messages: one
    command each, whatever the number of contacts."""
    cids = [c["_id"] for c in contacts]

    async def top(collection: str, sort: dict[str, int], n: int) -> dict[Any, list[Document]]:
        # The fields the response renders (and the sort's), as the gateway projects them,
        # and naive dates, as it decodes nested pages.
        fields = FLOOR_FIELDS[collection]
        pipeline = [
            {"$match": {"accountId": account, "cID": {"$in": cids}}},
            {"$group": {"_id": "$cID", "items": {"$topN": {"n": n, "sortBy": sort, "output": fields}}}},
        ]
        naive = db[collection].with_options(codec_options=db.codec_options.with_options(tz_aware=False))
        return {g["_id"]: g["items"] async for g in await naive.aggregate(pipeline)}

    activities, orders = await asyncio.gather(
        top("activities", {"ats": -1, "_id": -1}, 10), top("orders", {"purchaseDate": -1, "_id": -1}, 5)
    )
    message_ids = {a["messageId"] for items in activities.values() for a in items if a.get("messageId")}
    messages = {
        m["_id"]: m
        async for m in db["messages"].find({"accountId": account, "_id": {"$in": list(message_ids)}})
    }
    out = []
    for c in contacts:
        acts = activities.get(c["_id"], [])
        out.append(
            {
                "cID": str(c["_id"]),
                "email": (c.get("channels") or {}).get("email", {}).get("address"),
                "cart": _cart(c),
                "activities": {
                    "edges": [
                        {
                            "node": {
                                "action": a["action"],
                                "ats": _iso(a["ats"]),
                                "mcID": a.get("mcID"),
                                "message": (
                                    {"id": str(a["messageId"]), "name": messages[a["messageId"]].get("name")}
                                    if a.get("messageId") in messages
                                    else None
                                ),
                            }
                        }
                        for a in acts
                    ]
                },
                "orders": {
                    "edges": [
                        {
                            "node": {
                                "orderID": o["orderID"],
                                "purchaseDate": _iso(o.get("purchaseDate")),
                                "totalAmount": o.get("totalAmount"),
                                "items": [
                                    {k: i.get(k) for k in ("sku", "qty", "itemPrice")}
                                    for i in o.get("items", [])
                                ],
                            }
                        }
                        for o in orders.get(c["_id"], [])
                    ]
                },
            }
        )
    return out


ACCOUNT = "bench"
FLOOR_FIELDS = {
    "activities": {f: f"${f}" for f in ("_id", "action", "ats", "mcID", "messageId")},
    "orders": {f: f"${f}" for f in ("_id", "orderID", "purchaseDate", "totalAmount", "items")},
}


async def floor_q1(db: Database, variables: dict[str, Any]) -> bytes:
    contact = await db["contacts"].find_one(
        {"accountId": ACCOUNT, "channels.email.address": variables["ref"]}
    )
    [shaped] = await _nested(db, ACCOUNT, [contact] if contact else [])
    return orjson.dumps({"data": {"contact": shaped}})


async def floor_q2(db: Database, variables: dict[str, Any]) -> bytes:
    # Only the fields Q2 renders, as the gateway projects a page of contacts.
    fields = {"_id": 1, "channels.email": 1, "cart": 1}
    contacts = (
        await db["contacts"]
        .find({"accountId": ACCOUNT}, fields)
        .sort("_id", 1)
        .limit(variables["n"])
        .to_list()
    )
    shaped = await _nested(db, ACCOUNT, contacts)
    return orjson.dumps({"data": {"contacts": {"edges": [{"node": c} for c in shaped]}}})


async def floor_q3(db: Database, variables: dict[str, Any]) -> bytes:
    start, end = (datetime.fromisoformat(variables[k].replace("Z", "+00:00")) for k in ("s", "e"))
    cursor = (
        db["activities"]
        .find({"accountId": ACCOUNT, "action": variables["a"], "ats": {"$gte": start, "$lte": end}})
        .sort([("ats", -1), ("_id", -1)])
        .limit(1000)
    )
    edges = [
        {"node": {"cID": str(a["cID"]), "action": a["action"], "ats": _iso(a["ats"]), "mcID": a.get("mcID")}}
        async for a in cursor
    ]
    return orjson.dumps({"data": {"activities": {"edges": edges}}})


async def floor_lookup(db: Database, variables: dict[str, Any]) -> bytes:
    ref: str = variables["r"]
    if ":" not in ref and "@" not in ref:
        query: dict[str, Any] = {"_id": ObjectId(ref), "accountId": ACCOUNT}
    elif ref.startswith("custID:"):
        query = {"accountId": ACCOUNT, "attributes.custID": ref.split(":", 1)[1]}
    elif ref.startswith("sms:"):
        query = {"accountId": ACCOUNT, "channels.sms.address": ref.split(":", 1)[1]}
    else:
        query = {"accountId": ACCOUNT, "channels.email.address": ref}
    contact = await db["contacts"].find_one(query, {"_id": 1})
    return orjson.dumps({"data": {"contact": {"cID": str(contact["_id"])} if contact else None}})


async def floor_w1(db: Database, variables: dict[str, Any]) -> bytes:
    now = datetime.now(UTC)
    docs = [
        {
            "accountId": ACCOUNT,
            "cID": ObjectId(e["contact"]),
            "action": e["action"],
            "ats": now,
            "properties": e.get("properties") or {},
            "expireAt": now + timedelta(days=548),
        }
        for e in variables["e"]
    ]
    result = await db["activities"].insert_many(docs)
    return orjson.dumps(
        {"data": {"eventsRecord": {"recordedCount": len(result.inserted_ids), "failedCount": 0}}}
    )


async def remove_written(db: Database) -> None:
    """Delete W1's events: every workload and system then reads the same seeded data (left in
    place, each run's inserts made the next runs' reads slower)."""
    await db["activities"].delete_many({"accountId": ACCOUNT, "action": W1_ACTION})


def workloads(emails: list[str], cids: list[str], cust_ids: list[str], sms: list[str]) -> list[Workload]:
    def q1(rng: random.Random) -> dict[str, Any]:
        return {"ref": rng.choice(emails)}

    def q3(rng: random.Random) -> dict[str, Any]:
        end = datetime.now(UTC)
        start = end - timedelta(days=WINDOW_DAYS)
        return {"a": rng.choice(["open", "click"]), "s": _iso(start), "e": _iso(end)}

    def by(refs: list[str]) -> Callable[[random.Random], dict[str, Any]]:
        return lambda rng: {"r": rng.choice(refs)}

    def w1(rng: random.Random) -> dict[str, Any]:
        return {
            "e": [
                {
                    "contact": rng.choice(cids),
                    "action": W1_ACTION,
                    "properties": {"page": f"p{rng.randrange(100)}"},
                }
                for _ in range(1000)
            ]
        }

    return [
        Workload("Q1", Q1, q1, floor_q1),
        Workload("Q2", Q2, lambda rng: {"n": 50}, floor_q2),
        # Q2 at four times the size: with Q2 it gives CPU per response KB (the slope).
        Workload("Q2_200", Q2, lambda rng: {"n": 200}, floor_q2),
        Workload("Q3", Q3, q3, floor_q3),
        Workload("W1", W1, w1, floor_w1),
        # A contact by each kind of ref: email and custID must cost what a cID does.
        Workload("L_email", LOOKUP, by(emails), floor_lookup),
        Workload("L_custID", LOOKUP, by([f"custID:{c}" for c in cust_ids]), floor_lookup),
        Workload("L_sms", LOOKUP, by([f"sms:{s}" for s in sms]), floor_lookup),
        Workload("L_cID", LOOKUP, by(cids), floor_lookup),
    ]
