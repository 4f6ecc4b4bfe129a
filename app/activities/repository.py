"""Database access for activities. Every function takes the account id first and scopes by it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bson import ObjectId

from app.db import ACTIVITIES, Database, Document, page_per_parent, scoped
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
        await db[ACTIVITIES].find_one(scoped(account_id, {"cID": cid, "mcID": mc_id}), {"_id": 1}) is not None
    )


async def insert_one(account_id: str, db: Database, doc: Document, session: Any = None) -> None:
    await db[ACTIVITIES].insert_one(scoped(account_id, doc), session=session)
