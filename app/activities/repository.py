"""Database access for activities, through the caller's account (``app.tenant``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError

from app.db import ACTIVITIES, EVENT_PROPERTIES, MAX_TIME, MESSAGES, Document, raises_duplicate_key, under
from app.pagination import PageSource, PerParentQuery
from app.tenant import Tenant


async def page_per_contact(
    tenant: Tenant, cids: Sequence[ObjectId], query: PerParentQuery
) -> dict[ObjectId, tuple[list[Document], int]]:
    """The page of each contact's activities, in ONE aggregation for all ``cids``."""
    return await tenant[ACTIVITIES].page_per_parent("cID", cids, query)


async def insert_many(tenant: Tenant, docs: Sequence[Document]) -> None:
    if docs:
        await tenant[ACTIVITIES].insert_many([d for d in docs], ordered=False)


async def delete_for_contact(tenant: Tenant, cid: ObjectId, session: Any = None) -> int:
    result = await tenant[ACTIVITIES].delete_many({"cID": cid}, session=session)
    return result.deleted_count


async def contact_has_mcid(tenant: Tenant, cid: ObjectId, mc_id: str) -> bool:
    return await tenant[ACTIVITIES].find_one({"cID": cid, "mcID": mc_id}, {"_id": 1}) is not None


async def insert_one(tenant: Tenant, doc: Document, session: Any = None) -> None:
    await tenant[ACTIVITIES].insert_one(doc, session=session)


async def insert_events(tenant: Tenant, docs: Sequence[Document]) -> set[int]:
    """Insert all ``docs`` (unordered); the indexes of those refused as duplicates of an
    idempotencyKey already stored. Any other write error is raised."""
    if not docs:
        return set()
    try:
        await tenant[ACTIVITIES].insert_many([d for d in docs], ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != 11000 for e in errors):
            raise
        return {int(e["index"]) for e in errors}
    return set()


async def find_by_idempotency_keys(tenant: Tenant, keys: Sequence[str]) -> list[Document]:
    return await tenant[ACTIVITIES].find({"idempotencyKey": {"$in": list(keys)}}).to_list()


def pages(tenant: Tenant, fields: Sequence[str] | None = None) -> PageSource:
    return tenant[ACTIVITIES].pages(fields)


async def recorded_property_types(
    tenant: Tenant, pairs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """(action, key) → the first type recorded for it, for the pairs already known."""
    if not pairs:
        return {}
    actions = sorted({a for a, _ in pairs})
    keys = sorted({k for _, k in pairs})
    cursor = tenant[EVENT_PROPERTIES].find(
        {"action": {"$in": actions}, "key": {"$in": keys}},
        {"action": 1, "key": 1, "type": 1},
    )
    wanted = set(pairs)
    return {(d["action"], d["key"]): d["type"] async for d in cursor if (d["action"], d["key"]) in wanted}


async def record_property_types(tenant: Tenant, types: dict[tuple[str, str], str]) -> None:
    """Insert first-seen types; a pair another writer recorded meanwhile keeps its type."""
    if not types:
        return
    docs = [{"action": a, "key": k, "type": t, "searchable": True} for (a, k), t in types.items()]
    try:
        await tenant[EVENT_PROPERTIES].insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
            raise


async def find_messages(tenant: Tenant, ids: Sequence[Any]) -> list[Document]:
    return await tenant[MESSAGES].find({"_id": {"$in": list(ids)}}).to_list()


async def stream_inserted(
    tenant: Tenant, query: Document, after: Document | None, checkpoint_s: float
) -> AsyncIterator[tuple[Document, Document | None]]:
    """(resume token, activity or None for a checkpoint): this account's activities matching
    ``query`` recorded after the token ``after`` (or from now), then live."""
    match = {"operationType": "insert", **under("fullDocument.", query)}
    async for token, change in tenant[ACTIVITIES].watch_resumable(
        match, start_after=after, checkpoint_s=checkpoint_s
    ):
        yield token, (change["fullDocument"] if change is not None else None)


async def watch_inserted(tenant: Tenant, query: Document) -> AsyncIterator[Document]:
    """Activities recorded from now on in this account that match ``query``."""
    match = {"operationType": "insert", **under("fullDocument.", query)}
    async for change in tenant[ACTIVITIES].watch(match):
        yield change["fullDocument"]


async def move_to_contact(tenant: Tenant, source: ObjectId, target: ObjectId, session: Any = None) -> int:
    result = await tenant[ACTIVITIES].update_many({"cID": source}, {"$set": {"cID": target}}, session=session)
    return result.modified_count


async def stream_for_contacts(
    tenant: Tenant, cids: Sequence[ObjectId], query: Document | None = None
) -> AsyncIterator[Document]:
    """Every activity of these contacts, oldest first, read in batches (never all at once)."""
    cursor = tenant[ACTIVITIES].find({**(query or {}), "cID": {"$in": list(cids)}})
    async for doc in cursor.sort([("cID", 1), ("ats", 1), ("_id", 1)]).batch_size(1000):
        yield doc


async def in_contact_range(
    tenant: Tenant, cids: tuple[ObjectId, ObjectId], fields: Sequence[str]
) -> AsyncIterator[Document]:
    """Every activity of the contacts whose cID is between ``cids`` (inclusive; only
    ``fields``), in no particular order, in batches: served from ``(accountId, cID, ats)``
    by both engines (the caller filters and orders).

    The upper bound is written ``$lt`` the next ObjectId: the embedded engine (0.7.0b3)
    drops the documents equal to a ``$lte`` bound on a field that is not the last of a
    compound index (``{cID: {$gte: x, $lte: x}}`` finds nothing)."""
    after_last = ObjectId((int.from_bytes(cids[1].binary, "big") + 1).to_bytes(12, "big"))
    query = {"cID": {"$gte": cids[0], "$lt": after_last}}
    cursor = tenant[ACTIVITIES].find(query, dict.fromkeys(fields, 1), max_time_ms=MAX_TIME.job)
    async for doc in cursor.batch_size(5000):
        yield doc


async def find_by_node_ids(tenant: Tenant, node_ids: Sequence[str]) -> list[Document | None]:
    return await tenant[ACTIVITIES].by_node_ids(node_ids)


async def insert_messages(tenant: Tenant, docs: Sequence[Document]) -> None:
    await tenant[MESSAGES].insert_many([d for d in docs])


@raises_duplicate_key
async def upsert_message(tenant: Tenant, message_id: ObjectId, fields: Document) -> Document:
    """Create or update one message (campaign) of the account; the document after the write."""
    doc: Document | None = await tenant[MESSAGES].find_one_and_update(
        {"_id": message_id},
        {"$set": fields, "$setOnInsert": {"createdAt": datetime.now(UTC)}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    assert doc is not None  # an upsert returning the document after always has one
    return doc
