"""Database access for activities. Every function takes the account id first and scopes by it."""

from __future__ import annotations

from collections.abc import Sequence

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
