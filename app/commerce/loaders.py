"""Per-request loaders for commerce."""

from __future__ import annotations

from typing import Any

from app.connection import PageByParentLoader, ParentPage, ToNode
from app.pagination import PerParentQuery
from app.tenant import Tenant

from . import repository


class OrdersByContactLoader(PageByParentLoader):
    """cID → that contact's page as a connection; one aggregation for the whole level."""

    def __init__(self, tenant: Tenant, query: PerParentQuery, to_node: ToNode) -> None:
        async def fetch(cids: list[Any]) -> dict[Any, ParentPage]:
            return await repository.page_per_contact(tenant, cids, query)

        super().__init__(fetch, query, to_node)
