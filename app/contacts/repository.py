"""Database access for contacts. Every function takes the account id first and scopes by it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from bson import ObjectId
from pymongo import InsertOne, ReplaceOne
from pymongo.errors import BulkWriteError

from app.db import (
    CONTACT_ALIASES,
    CONTACTS,
    MAX_TIME,
    Database,
    Document,
    raises_duplicate_key,
    scoped,
    watch,
)
from app.db import count as db_count
from app.db import find_by_ids as db_find_by_ids
from app.db import find_page as db_find_page

if TYPE_CHECKING:
    from .activity_conditions import ContactPipeline


async def find_by_ids(account_id: str, db: Database, ids: Sequence[ObjectId]) -> list[Document]:
    return await db_find_by_ids(db[CONTACTS], account_id, ids)


async def find_one_by(
    account_id: str, db: Database, path: str, value: Any, session: Any = None
) -> Document | None:
    return await db[CONTACTS].find_one(
        scoped(account_id, {path: value}), session=session, max_time_ms=MAX_TIME.request
    )


async def find_survivor(account_id: str, db: Database, cid: ObjectId, session: Any = None) -> ObjectId | None:
    """The contact a merged-away cID now lives on, if it was merged."""
    alias = await db[CONTACT_ALIASES].find_one(
        scoped(account_id, {"cID": cid}), {"survivor": 1}, session=session, max_time_ms=MAX_TIME.request
    )
    return alias["survivor"] if alias else None


@raises_duplicate_key
async def add_alias(
    account_id: str, db: Database, merged: ObjectId, survivor: ObjectId, session: Any = None
) -> None:
    """``merged`` now resolves to ``survivor``, and so does every cID merged into it before."""
    aliases = db[CONTACT_ALIASES]
    await aliases.update_many(
        scoped(account_id, {"survivor": merged}), {"$set": {"survivor": survivor}}, session=session
    )
    await aliases.insert_one(scoped(account_id, {"cID": merged, "survivor": survivor}), session=session)


async def find_page(
    account_id: str, db: Database, query: Document, sort: list[tuple[str, int]], limit: int
) -> list[Document]:
    return await db_find_page(db[CONTACTS], account_id, query, sort, limit)


async def count(account_id: str, db: Database, query: Document) -> int:
    return await db_count(db[CONTACTS], account_id, query)


async def insert_many(account_id: str, db: Database, docs: Sequence[Document]) -> list[ObjectId]:
    result = await db[CONTACTS].insert_many([scoped(account_id, d) for d in docs])
    return list(result.inserted_ids)


@raises_duplicate_key
async def insert_one(account_id: str, db: Database, doc: Document, session: Any = None) -> None:
    await db[CONTACTS].insert_one(scoped(account_id, doc), session=session)


@raises_duplicate_key
async def replace_if_version(
    account_id: str, db: Database, doc: Document, version: int, session: Any = None
) -> bool:
    """Store ``doc`` only if the stored contact is still at ``version`` (optimistic locking)."""
    query = scoped(account_id, {"_id": doc["_id"], "version": version})
    result = await db[CONTACTS].replace_one(query, scoped(account_id, doc), session=session)
    return result.matched_count == 1


async def delete_one(account_id: str, db: Database, cid: ObjectId, session: Any = None) -> int:
    result = await db[CONTACTS].delete_one(scoped(account_id, {"_id": cid}), session=session)
    return result.deleted_count


async def delete_aliases_of(account_id: str, db: Database, survivor: ObjectId, session: Any = None) -> int:
    result = await db[CONTACT_ALIASES].delete_many(
        scoped(account_id, {"survivor": survivor}), session=session
    )
    return result.deleted_count


async def bulk_store(
    account_id: str, db: Database, inserts: Sequence[Document], replaces: Sequence[tuple[Document, int]]
) -> tuple[list[int], list[int]]:
    """Insert new contacts and replace changed ones (each only if still at the version it
    was read at) in ONE unordered bulk write. Returns the positions, in ``inserts`` and in
    ``replaces``, of the writes that did not land (an identifier taken, or the contact
    changed meanwhile), so that the caller can do them again one by one.

    Each written contact carries the batch's id in ``writeBatch``; when fewer replaces
    matched than were sent, the ones that landed are told apart by it (a later write of the
    same contact starts from the stored document, so it keeps the id)."""
    batch = ObjectId()
    ops: list[InsertOne[Document] | ReplaceOne[Document]] = [
        InsertOne(scoped(account_id, {**doc, "writeBatch": batch})) for doc in inserts
    ]
    ops += [
        ReplaceOne(
            scoped(account_id, {"_id": doc["_id"], "version": version}),
            scoped(account_id, {**doc, "writeBatch": batch}),
        )
        for doc, version in replaces
    ]
    failed_inserts: set[int] = set()
    failed_replaces: set[int] = set()
    try:
        result = await db[CONTACTS].bulk_write(ops, ordered=False)
        matched = result.matched_count
    except BulkWriteError as exc:
        matched = int(exc.details.get("nMatched", 0))
        for error in exc.details.get("writeErrors", []):
            index = int(error["index"])
            if index < len(inserts):
                failed_inserts.add(index)
            else:
                failed_replaces.add(index - len(inserts))
    if matched < len(replaces) - len(failed_replaces):
        ids = [doc["_id"] for doc, _ in replaces]
        cursor = db[CONTACTS].find(
            scoped(account_id, {"_id": {"$in": ids}, "writeBatch": batch}),
            {"_id": 1},
            max_time_ms=MAX_TIME.request,
        )
        landed = {d["_id"] async for d in cursor}
        failed_replaces.update(i for i, (doc, _) in enumerate(replaces) if doc["_id"] not in landed)
    return sorted(failed_inserts), sorted(failed_replaces)


async def find_ids_by(account_id: str, db: Database, path: str, values: Sequence[Any]) -> dict[Any, ObjectId]:
    """value of ``path`` → cID, for the contacts holding any of ``values`` (one query)."""
    query = scoped(account_id, {path: {"$in": list(values)}})
    cursor = (
        db[CONTACTS].find(query, {path: 1}, max_time_ms=MAX_TIME.request).batch_size(len(values) + 1)
    )  # one round trip
    found: dict[Any, ObjectId] = {}
    async for doc in cursor:
        value: Any = doc
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        found[value] = doc["_id"]
    return found


async def find_survivors(account_id: str, db: Database, cids: Sequence[ObjectId]) -> dict[ObjectId, ObjectId]:
    cursor = db[CONTACT_ALIASES].find(
        scoped(account_id, {"cID": {"$in": list(cids)}}),
        {"cID": 1, "survivor": 1},
        max_time_ms=MAX_TIME.request,
    )
    return {d["cID"]: d["survivor"] async for d in cursor}


async def pipeline_page(
    account_id: str,
    db: Database,
    query: Document,
    sort: list[tuple[str, int]],
    limit: int,
    *,
    pipeline: ContactPipeline,
) -> list[Document]:
    """find_page for contacts selected by an aggregation (e.g. activity conditions);
    ``query`` (a seek filter) applies after it."""
    stages = [
        *pipeline.stages,
        {"$match": scoped(account_id, query)},
        {"$sort": dict(sort)},
        {"$limit": limit},
    ]
    return await (await db[pipeline.collection].aggregate(stages, maxTimeMS=MAX_TIME.request)).to_list()


async def pipeline_count(account_id: str, db: Database, query: Document, *, pipeline: ContactPipeline) -> int:
    stages = [*pipeline.stages, {"$match": scoped(account_id, query)}, {"$count": "n"}]
    result = await (await db[pipeline.collection].aggregate(stages, maxTimeMS=MAX_TIME.request)).to_list()
    return int(result[0]["n"]) if result else 0


async def watch_contact(account_id: str, db: Database, cid: ObjectId) -> AsyncIterator[Document]:
    """Changes of one contact of this account: (operationType, the contact after it or None)."""
    match = {"documentKey._id": cid, "operationType": {"$in": ["insert", "update", "replace", "delete"]}}
    async for change in watch(db[CONTACTS], account_id, match, deletes=True):
        yield change


async def stream_matching(
    db: Database, pipeline: ContactPipeline, projection: Document | None = None
) -> AsyncIterator[Document]:
    """The contacts ``pipeline`` selects (it is account-scoped), ascending cID, in batches."""
    stages = [*pipeline.stages, {"$sort": {"_id": 1}}]
    if projection:
        stages.append({"$project": projection})
    async for doc in await db[pipeline.collection].aggregate(
        stages, batchSize=1000, allowDiskUse=True, maxTimeMS=MAX_TIME.job
    ):
        yield doc


async def some_emails(account_id: str, db: Database, limit: int) -> list[str]:
    """Email addresses of the account's first contacts (GraphiQL's example variables), those
    with a cart first, so that the first example shows one."""
    emails: list[str] = []
    for extra in ({"cart.items.0": {"$exists": True}}, {}):
        cursor = db[CONTACTS].find(
            scoped(account_id, {"channels.email.address": {"$gte": ""}, **extra}),
            {"channels.email.address": 1},
            max_time_ms=MAX_TIME.request,
        )
        async for doc in cursor.sort("_id", 1).limit(limit):
            if doc["channels"]["email"]["address"] not in emails:
                emails.append(doc["channels"]["email"]["address"])
    return emails[:limit]
