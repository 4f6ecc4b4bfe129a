"""Per-request loaders for commerce."""

from __future__ import annotations

from typing import Any

from app.connection import PageByParentLoader, ParentPage
from app.pagination import PerParentQuery
from app.tenant import Tenant

from . import repository


class OrdersByContactLoader(PageByParentLoader):
    """cID → (that contact's page, its total); one aggregation for the whole level."""

    def __init__(self, tenant: Tenant, query: PerParentQuery) -> None:
        async def fetch(cids: list[Any]) -> dict[Any, ParentPage]:
            return await repository.page_per_contact(tenant, cids, query)

        super().__init__(fetch)
