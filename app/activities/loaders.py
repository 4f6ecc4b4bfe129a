"""Per-request loaders for activities."""

from __future__ import annotations

from typing import Any

from app.connection import PageByParentLoader, ParentPage
from app.db import Database
from app.pagination import PerParentQuery

from . import repository


class ActivitiesByContactLoader(PageByParentLoader):
    """cID → (that contact's page, its total); one aggregation for the whole level."""

    def __init__(self, account_id: str, db: Database, query: PerParentQuery) -> None:
        async def fetch(cids: list[Any]) -> dict[Any, ParentPage]:
            return await repository.page_per_contact(account_id, db, cids, query)

        super().__init__(fetch)
