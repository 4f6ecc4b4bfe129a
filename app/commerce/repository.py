"""Database access for orders. Every function takes the account id first and scopes by it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.db import MAX_TIME, ORDERS, Database, Document, docs_by_node_ids, page_per_parent, scoped
from app.db import count as db_count
from app.db import find_page as db_find_page
from app.pagination import PerParentQuery


async def page_per_contact(
    account_id: str, db: Database, cids: Sequence[ObjectId], query: PerParentQuery
) -> dict[ObjectId, tuple[list[Document], int]]:
    """The page of each contact's orders, in ONE aggregation for all ``cids``."""
    return await page_per_parent(db[ORDERS], account_id, "cID", cids, query)


async def insert_many(account_id: str, db: Database, docs: Sequence[Document]) -> None:
    if docs:
        await db[ORDERS].insert_many([scoped(account_id, d) for d in docs], ordered=False)


async def delete_for_contact(account_id: str, db: Database, cid: ObjectId, session: Any = None) -> int:
    result = await db[ORDERS].delete_many(scoped(account_id, {"cID": cid}), session=session)
    return result.deleted_count


async def upsert_for_contact(account_id: str, db: Database, doc: Document) -> tuple[Document, bool]:
    """Replace the order with ``doc``'s orderID if it belongs to the same contact, insert it
    if new. Returns the stored order (another contact's, untouched, if the id is theirs)."""
    query = scoped(account_id, {"orderID": doc["orderID"], "cID": doc["cID"]})
    try:
        before = await db[ORDERS].find_one_and_update(
            query,
            {"$set": scoped(account_id, doc), "$setOnInsert": {"createdAt": doc["lastModified"]}},
            upsert=True,
            return_document=ReturnDocument.BEFORE,
            maxTimeMS=MAX_TIME.request,
        )
    except DuplicateKeyError:  # the orderID exists for another contact
        other = await db[ORDERS].find_one(
            scoped(account_id, {"orderID": doc["orderID"]}), max_time_ms=MAX_TIME.request
        )
        assert other is not None
        return other, False
    stored = await db[ORDERS].find_one(query, max_time_ms=MAX_TIME.request)
    assert stored is not None
    return stored, before is None


async def find_page(
    account_id: str, db: Database, query: Document, sort: list[tuple[str, int]], limit: int
) -> list[Document]:
    return await db_find_page(db[ORDERS], account_id, query, sort, limit)


async def count(account_id: str, db: Database, query: Document) -> int:
    return await db_count(db[ORDERS], account_id, query)


async def move_to_contact(
    account_id: str, db: Database, source: ObjectId, target: ObjectId, session: Any = None
) -> int:
    result = await db[ORDERS].update_many(
        scoped(account_id, {"cID": source}), {"$set": {"cID": target}}, session=session
    )
    return result.modified_count


async def find_for_contact(account_id: str, db: Database, cid: ObjectId) -> list[Document]:
    return (
        await db[ORDERS]
        .find(scoped(account_id, {"cID": cid}), max_time_ms=MAX_TIME.request)
        .sort("purchaseDate", 1)
        .to_list()
    )


async def find_by_node_ids(account_id: str, db: Database, node_ids: Sequence[str]) -> list[Document | None]:
    return await docs_by_node_ids(db[ORDERS], account_id, node_ids)
