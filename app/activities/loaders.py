"""Per-request loaders for activities."""

from __future__ import annotations

from typing import Any

from app.connection import PageByParentLoader, ParentPage, SharedLoader, ToNode
from app.db import Document
from app.pagination import PerParentQuery
from app.tenant import Tenant

from . import repository


class ActivitiesByContactLoader(PageByParentLoader):
    """cID → that contact's page as a connection; one aggregation for the whole level."""

    def __init__(self, tenant: Tenant, query: PerParentQuery, to_node: ToNode) -> None:
        async def fetch(cids: list[Any]) -> dict[Any, ParentPage]:
            return await repository.page_per_contact(tenant, cids, query)

        super().__init__(fetch, query, to_node)


class MessageByIdLoader(SharedLoader[Any, Document | None]):
    """message id → message (campaign) document; one query per batch."""

    def __init__(self, tenant: Tenant) -> None:
        async def load(ids: list[Any]) -> list[Document | None]:
            by_id = {d["_id"]: d for d in await repository.find_messages(tenant, ids)}
            return [by_id.get(i) for i in ids]

        super().__init__(load)
