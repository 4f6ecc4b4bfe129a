"""Per-request loaders for contacts."""

from __future__ import annotations

from bson import ObjectId
from strawberry.dataloader import DataLoader

from app.db import Document
from app.tenant import Tenant

from . import repository


class ContactByIdLoader(DataLoader[ObjectId, Document | None]):
    """cID → contact document (None when absent); one query per batch."""

    def __init__(self, tenant: Tenant) -> None:
        async def load(ids: list[ObjectId]) -> list[Document | None]:
            docs = await repository.find_by_ids(tenant, ids)
            by_id = {d["_id"]: d for d in docs}
            return [by_id.get(i) for i in ids]

        super().__init__(load_fn=load)
