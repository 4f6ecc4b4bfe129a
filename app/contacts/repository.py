"""Database access for contacts, through the caller's account (``app.tenant``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from bson import ObjectId
from pymongo.errors import BulkWriteError

from app.db import CONTACT_ALIASES, CONTACTS, MAX_TIME, Document, raises_duplicate_key
from app.pagination import PageSource
from app.tenant import Tenant

if TYPE_CHECKING:
    from .activity_conditions import ContactPipeline


async def find_by_ids(tenant: Tenant, ids: Sequence[ObjectId]) -> list[Document]:
    return await tenant[CONTACTS].by_ids(ids)


async def find_one_by(tenant: Tenant, path: str, value: Any, session: Any = None) -> Document | None:
    return await tenant[CONTACTS].find_one({path: value}, session=session)


async def find_survivor(tenant: Tenant, cid: ObjectId, session: Any = None) -> ObjectId | None:
    """The contact a merged-away cID now lives on, if it was merged."""
    alias = await tenant[CONTACT_ALIASES].find_one({"cID": cid}, {"survivor": 1}, session=session)
    return alias["survivor"] if alias else None


@raises_duplicate_key
async def add_alias(tenant: Tenant, merged: ObjectId, survivor: ObjectId, session: Any = None) -> None:
    """``merged`` now resolves to ``survivor``, and so does every cID merged into it before."""
    aliases = tenant[CONTACT_ALIASES]
    await aliases.update_many({"survivor": merged}, {"$set": {"survivor": survivor}}, session=session)
    await aliases.insert_one({"cID": merged, "survivor": survivor}, session=session)


def pages(tenant: Tenant, fields: Sequence[str] | None = None) -> PageSource:
    """The account's contacts as pages: only ``fields`` of each, if given."""
    return tenant[CONTACTS].pages(fields)


async def insert_many(tenant: Tenant, docs: Sequence[Document]) -> list[ObjectId]:
    result = await tenant[CONTACTS].insert_many([d for d in docs])
    return list(result.inserted_ids)


@raises_duplicate_key
async def insert_one(tenant: Tenant, doc: Document, session: Any = None) -> None:
    await tenant[CONTACTS].insert_one(doc, session=session)


@raises_duplicate_key
async def replace_if_version(tenant: Tenant, doc: Document, version: int, session: Any = None) -> bool:
    """Store ``doc`` only if the stored contact is still at ``version`` (optimistic locking)."""
    query = {"_id": doc["_id"], "version": version}
    result = await tenant[CONTACTS].replace_one(query, doc, session=session)
    return result.matched_count == 1


async def delete_one(tenant: Tenant, cid: ObjectId, session: Any = None) -> int:
    result = await tenant[CONTACTS].delete_one({"_id": cid}, session=session)
    return result.deleted_count


async def delete_aliases_of(tenant: Tenant, survivor: ObjectId, session: Any = None) -> int:
    result = await tenant[CONTACT_ALIASES].delete_many({"survivor": survivor}, session=session)
    return result.deleted_count


async def bulk_store(
    tenant: Tenant, inserts: Sequence[Document], replaces: Sequence[tuple[Document, int]]
) -> tuple[list[int], list[int]]:
    """Insert new contacts and replace changed ones (each only if still at the version it
    was read at) in ONE unordered bulk write. Returns the positions, in ``inserts`` and in
    ``replaces``, of the writes that did not land (an identifier taken, or the contact
    changed meanwhile), so that the caller can do them again one by one.

    Each written contact carries the batch's id in ``writeBatch``; when fewer replaces
    matched than were sent, the ones that landed are told apart by it (a later write of the
    same contact starts from the stored document, so it keeps the id)."""
    batch = ObjectId()
    new = [{**doc, "writeBatch": batch} for doc in inserts]
    changed = [
        ({"_id": doc["_id"], "version": version}, {**doc, "writeBatch": batch}) for doc, version in replaces
    ]
    failed_inserts: set[int] = set()
    failed_replaces: set[int] = set()
    try:
        result = await tenant[CONTACTS].bulk_write(new, changed, ordered=False)
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
        cursor = tenant[CONTACTS].find(
            {"_id": {"$in": ids}, "writeBatch": batch},
            {"_id": 1},
        )
        landed = {d["_id"] async for d in cursor}
        failed_replaces.update(i for i, (doc, _) in enumerate(replaces) if doc["_id"] not in landed)
    return sorted(failed_inserts), sorted(failed_replaces)


async def find_ids_by(tenant: Tenant, path: str, values: Sequence[Any]) -> dict[Any, ObjectId]:
    """value of ``path`` → cID, for the contacts holding any of ``values`` (one query)."""
    query = {path: {"$in": list(values)}}
    cursor = tenant[CONTACTS].find(query, {path: 1}).batch_size(len(values) + 1)  # one round trip
    found: dict[Any, ObjectId] = {}
    async for doc in cursor:
        value: Any = doc
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        found[value] = doc["_id"]
    return found


async def find_survivors(tenant: Tenant, cids: Sequence[ObjectId]) -> dict[ObjectId, ObjectId]:
    cursor = tenant[CONTACT_ALIASES].find(
        {"cID": {"$in": list(cids)}},
        {"cID": 1, "survivor": 1},
    )
    return {d["cID"]: d["survivor"] async for d in cursor}


class PipelinePages:
    """The pages of contacts an aggregation selects (e.g. activity conditions); the page's
    ``query`` (a seek filter) applies after it."""

    def __init__(self, tenant: Tenant, pipeline: ContactPipeline) -> None:
        self._collection, self._stages = tenant[pipeline.collection], pipeline.stages

    async def find_page(self, query: Document, sort: list[tuple[str, int]], limit: int) -> list[Document]:
        stages = [*self._stages, {"$match": query}, {"$sort": dict(sort)}, {"$limit": limit}]
        return await (await self._collection.aggregate(stages)).to_list()

    async def count(self, query: Document) -> int:
        stages = [*self._stages, {"$match": query}, {"$count": "n"}]
        result = await (await self._collection.aggregate(stages)).to_list()
        return int(result[0]["n"]) if result else 0


async def watch_contact(tenant: Tenant, cid: ObjectId) -> AsyncIterator[Document]:
    """Changes of one contact of this account: (operationType, the contact after it or None)."""
    match = {"documentKey._id": cid, "operationType": {"$in": ["insert", "update", "replace", "delete"]}}
    async for change in tenant[CONTACTS].watch(match, deletes=True):
        yield change


async def stream_matching(
    tenant: Tenant, pipeline: ContactPipeline, projection: Document | None = None
) -> AsyncIterator[Document]:
    """The contacts ``pipeline`` selects, ascending cID, in batches."""
    stages = [*pipeline.stages, {"$sort": {"_id": 1}}]
    if projection:
        stages.append({"$project": projection})
    async for doc in await tenant[pipeline.collection].aggregate(
        stages, batchSize=1000, allowDiskUse=True, maxTimeMS=MAX_TIME.job
    ):
        yield doc


async def some_emails(tenant: Tenant, limit: int) -> list[str]:
    """Email addresses of the account's first contacts (GraphiQL's example variables), those
    with a cart first, so that the first example shows one."""
    emails: list[str] = []
    for extra in ({"cart.items.0": {"$exists": True}}, {}):
        cursor = tenant[CONTACTS].find(
            {"channels.email.address": {"$gte": ""}, **extra},
            {"channels.email.address": 1},
        )
        async for doc in cursor.sort("_id", 1).limit(limit):
            if doc["channels"]["email"]["address"] not in emails:
                emails.append(doc["channels"]["email"]["address"])
    return emails[:limit]
