"""Database access for activities. Every function takes the account id first and scopes by it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError

from app.db import (
    ACTIVITIES,
    EVENT_PROPERTIES,
    MAX_TIME,
    MESSAGES,
    Database,
    Document,
    docs_by_node_ids,
    page_per_parent,
    raises_duplicate_key,
    scoped,
    under,
    watch,
    watch_resumable,
)
from app.db import count as db_count
from app.db import find_page as db_find_page
from app.pagination import PerParentQuery


async def page_per_contact(
    account_id: str, db: Database, cids: Sequence[ObjectId], query: PerParentQuery
) -> dict[ObjectId, tuple[list[Document], int]]:
    """The page of each contact's activities, in ONE aggregation for all ``cids``."""
    return await page_per_parent(db[ACTIVITIES], account_id, "cID", cids, query)


async def insert_many(account_id: str, db: Database, docs: Sequence[Document]) -> None:
    if docs:
        await db[ACTIVITIES].insert_many([scoped(account_id, d) for d in docs], ordered=False)


async def delete_for_contact(account_id: str, db: Database, cid: ObjectId, session: Any = None) -> int:
    result = await db[ACTIVITIES].delete_many(scoped(account_id, {"cID": cid}), session=session)
    return result.deleted_count


async def contact_has_mcid(account_id: str, db: Database, cid: ObjectId, mc_id: str) -> bool:
    return (
        await db[ACTIVITIES].find_one(
            scoped(account_id, {"cID": cid, "mcID": mc_id}), {"_id": 1}, max_time_ms=MAX_TIME.request
        )
        is not None
    )


async def insert_one(account_id: str, db: Database, doc: Document, session: Any = None) -> None:
    await db[ACTIVITIES].insert_one(scoped(account_id, doc), session=session)


async def insert_events(account_id: str, db: Database, docs: Sequence[Document]) -> set[int]:
    """Insert all ``docs`` (unordered); the indexes of those refused as duplicates of an
    idempotencyKey already stored. Any other write error is raised."""
    if not docs:
        return set()
    try:
        await db[ACTIVITIES].insert_many([scoped(account_id, d) for d in docs], ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != 11000 for e in errors):
            raise
        return {int(e["index"]) for e in errors}
    return set()


async def find_by_idempotency_keys(account_id: str, db: Database, keys: Sequence[str]) -> list[Document]:
    return (
        await db[ACTIVITIES]
        .find(scoped(account_id, {"idempotencyKey": {"$in": list(keys)}}), max_time_ms=MAX_TIME.request)
        .to_list()
    )


async def find_page(
    account_id: str,
    db: Database,
    query: Document,
    sort: list[tuple[str, int]],
    limit: int,
    fields: Sequence[str] | None = None,
) -> list[Document]:
    return await db_find_page(db[ACTIVITIES], account_id, query, sort, limit, fields)


async def count(account_id: str, db: Database, query: Document) -> int:
    return await db_count(db[ACTIVITIES], account_id, query)


async def recorded_property_types(
    account_id: str, db: Database, pairs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """(action, key) → the first type recorded for it, for the pairs already known."""
    if not pairs:
        return {}
    actions = sorted({a for a, _ in pairs})
    keys = sorted({k for _, k in pairs})
    cursor = db[EVENT_PROPERTIES].find(
        scoped(account_id, {"action": {"$in": actions}, "key": {"$in": keys}}),
        {"action": 1, "key": 1, "type": 1},
        max_time_ms=MAX_TIME.request,
    )
    wanted = set(pairs)
    return {(d["action"], d["key"]): d["type"] async for d in cursor if (d["action"], d["key"]) in wanted}


async def record_property_types(account_id: str, db: Database, types: dict[tuple[str, str], str]) -> None:
    """Insert first-seen types; a pair another writer recorded meanwhile keeps its type."""
    if not types:
        return
    docs = [
        scoped(account_id, {"action": a, "key": k, "type": t, "searchable": True})
        for (a, k), t in types.items()
    ]
    try:
        await db[EVENT_PROPERTIES].insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
            raise


async def find_messages(account_id: str, db: Database, ids: Sequence[Any]) -> list[Document]:
    return (
        await db[MESSAGES]
        .find(scoped(account_id, {"_id": {"$in": list(ids)}}), max_time_ms=MAX_TIME.request)
        .to_list()
    )


async def stream_inserted(
    account_id: str, db: Database, query: Document, after: Document | None, checkpoint_s: float
) -> AsyncIterator[tuple[Document, Document | None]]:
    """(resume token, activity or None for a checkpoint): this account's activities matching
    ``query`` recorded after the token ``after`` (or from now), then live."""
    match = {"operationType": "insert", **under("fullDocument.", query)}
    async for token, change in watch_resumable(
        db[ACTIVITIES], account_id, match, start_after=after, checkpoint_s=checkpoint_s
    ):
        yield token, (change["fullDocument"] if change is not None else None)


async def watch_inserted(account_id: str, db: Database, query: Document) -> AsyncIterator[Document]:
    """Activities recorded from now on in this account that match ``query``."""
    match = {"operationType": "insert", **under("fullDocument.", query)}
    async for change in watch(db[ACTIVITIES], account_id, match):
        yield change["fullDocument"]


async def move_to_contact(
    account_id: str, db: Database, source: ObjectId, target: ObjectId, session: Any = None
) -> int:
    result = await db[ACTIVITIES].update_many(
        scoped(account_id, {"cID": source}), {"$set": {"cID": target}}, session=session
    )
    return result.modified_count


async def stream_for_contacts(
    account_id: str, db: Database, cids: Sequence[ObjectId], query: Document | None = None
) -> AsyncIterator[Document]:
    """Every activity of these contacts, oldest first, read in batches (never all at once)."""
    cursor = db[ACTIVITIES].find(
        scoped(account_id, {**(query or {}), "cID": {"$in": list(cids)}}), max_time_ms=MAX_TIME.request
    )
    async for doc in cursor.sort([("cID", 1), ("ats", 1), ("_id", 1)]).batch_size(1000):
        yield doc


async def in_contact_range(
    account_id: str, db: Database, cids: tuple[ObjectId, ObjectId], fields: Sequence[str]
) -> AsyncIterator[Document]:
    """Every activity of the contacts whose cID is between ``cids`` (inclusive; only
    ``fields``), in no particular order, in batches: served from ``(accountId, cID, ats)``
    by both engines (the caller filters and orders).

    The upper bound is written ``$lt`` the next ObjectId: the embedded engine (0.7.0b3)
    drops the documents equal to a ``$lte`` bound on a field that is not the last of a
    compound index (``{cID: {$gte: x, $lte: x}}`` finds nothing)."""
    after_last = ObjectId((int.from_bytes(cids[1].binary, "big") + 1).to_bytes(12, "big"))
    query = scoped(account_id, {"cID": {"$gte": cids[0], "$lt": after_last}})
    cursor = db[ACTIVITIES].find(query, dict.fromkeys(fields, 1), max_time_ms=MAX_TIME.job)
    async for doc in cursor.batch_size(5000):
        yield doc


async def find_by_node_ids(account_id: str, db: Database, node_ids: Sequence[str]) -> list[Document | None]:
    return await docs_by_node_ids(db[ACTIVITIES], account_id, node_ids)


async def insert_messages(account_id: str, db: Database, docs: Sequence[Document]) -> None:
    await db[MESSAGES].insert_many([scoped(account_id, d) for d in docs])


@raises_duplicate_key
async def upsert_message(account_id: str, db: Database, message_id: ObjectId, fields: Document) -> Document:
    """Create or update one message (campaign) of the account; the document after the write."""
    doc: Document | None = await db[MESSAGES].find_one_and_update(
        scoped(account_id, {"_id": message_id}),
        {"$set": fields, "$setOnInsert": {"createdAt": datetime.now(UTC)}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
        maxTimeMS=MAX_TIME.request,
    )
    assert doc is not None  # an upsert returning the document after always has one
    return doc
