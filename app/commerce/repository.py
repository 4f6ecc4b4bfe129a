"""Database access for orders, through the caller's account (``app.tenant``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.db import ORDERS, Document
from app.pagination import PageSource, PerParentQuery
from app.tenant import Tenant


async def page_per_contact(
    tenant: Tenant, cids: Sequence[ObjectId], query: PerParentQuery
) -> dict[ObjectId, tuple[list[Document], int]]:
    """The page of each contact's orders, in ONE aggregation for all ``cids``."""
    return await tenant[ORDERS].page_per_parent("cID", cids, query)


async def insert_many(tenant: Tenant, docs: Sequence[Document]) -> None:
    if docs:
        await tenant[ORDERS].insert_many(docs, ordered=False)


async def delete_for_contact(tenant: Tenant, cid: ObjectId, session: Any = None) -> int:
    result = await tenant[ORDERS].delete_many({"cID": cid}, session=session)
    return result.deleted_count


async def upsert_for_contact(tenant: Tenant, doc: Document) -> tuple[Document, bool]:
    """Replace the order with ``doc``'s orderID if it belongs to the same contact, insert it
    if new. Returns the stored order (another contact's, untouched, if the id is theirs)."""
    orders = tenant[ORDERS]
    query = {"orderID": doc["orderID"], "cID": doc["cID"]}
    try:
        before = await orders.find_one_and_update(
            query,
            {"$set": orders.stamped(doc), "$setOnInsert": {"createdAt": doc["lastModified"]}},
            upsert=True,
            return_document=ReturnDocument.BEFORE,
        )
    except DuplicateKeyError:  # the orderID exists for another contact
        other = await orders.find_one({"orderID": doc["orderID"]})
        assert other is not None
        return other, False
    stored = await orders.find_one(query)
    assert stored is not None
    return stored, before is None


def pages(tenant: Tenant) -> PageSource:
    return tenant[ORDERS].pages()


async def move_to_contact(tenant: Tenant, source: ObjectId, target: ObjectId, session: Any = None) -> int:
    result = await tenant[ORDERS].update_many({"cID": source}, {"$set": {"cID": target}}, session=session)
    return result.modified_count


async def find_for_contact(tenant: Tenant, cid: ObjectId) -> list[Document]:
    return await tenant[ORDERS].find({"cID": cid}).sort("purchaseDate", 1).to_list()


async def find_by_node_ids(tenant: Tenant, node_ids: Sequence[str]) -> list[Document | None]:
    return await tenant[ORDERS].by_node_ids(node_ids)
