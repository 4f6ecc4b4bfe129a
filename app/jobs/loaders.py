"""Per-request loaders for jobs."""

from __future__ import annotations

from typing import Any

from strawberry.dataloader import DataLoader

from app.db import Document
from app.tenant import Tenant

from . import repository


class JobByIdLoader(DataLoader[Any, Document | None]):
    """job id → job document (None when absent or another account's); one query per batch,
    e.g. for every ``ActivityReport.job`` of a page of reports."""

    def __init__(self, tenant: Tenant) -> None:
        async def load(ids: list[Any]) -> list[Document | None]:
            return await repository.jobs_by_node_ids(tenant, [str(i) for i in ids])

        super().__init__(load_fn=load)
