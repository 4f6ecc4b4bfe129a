"""contactUpdate: attribute operations, lists, channels, all or nothing."""

from __future__ import annotations

from app.account.config import AccountConfig
from app.db import Document
from app.tenant import Tenant

from .writes import ContactWrite, mutate_contact, with_write


async def update_contact(tenant: Tenant, config: AccountConfig, ref: str, write: ContactWrite) -> Document:
    _, after = await mutate_contact(
        tenant,
        config,
        ref,
        with_write(write, config),
        expected_version=write.expected_version,
        path=write.path,
    )
    return after
