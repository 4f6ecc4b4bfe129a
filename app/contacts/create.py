"""contactCreate and contactUpsert."""

from __future__ import annotations

from datetime import UTC, datetime

from bson import ObjectId

from app.account.config import AccountConfig
from app.db import Document, DuplicateKey
from app.errors import DomainError
from app.tenant import Tenant

from . import repository
from .refs import find_by_ref
from .writes import (
    ContactWrite,
    duplicate_error,
    identifier_refs,
    mutate_contact,
    new_contact_document,
    with_write,
)


async def create_contact(tenant: Tenant, config: AccountConfig, write: ContactWrite) -> Document:
    """A new contact; CONTACTS_RECORD_EXISTS if its email, sms or a unique key is taken."""
    now = datetime.now(UTC)
    doc = new_contact_document(write, config, now)
    doc["_id"] = ObjectId()
    try:
        await repository.insert_one(tenant, doc)
    except DuplicateKey as exc:
        raise duplicate_error(exc, write.path) from exc
    doc["accountId"] = tenant.account_id
    return doc


async def upsert_contact(tenant: Tenant, config: AccountConfig, write: ContactWrite) -> tuple[Document, bool]:
    """Update the contact the write's identifiers name (primary key first), else create it.
    Returns the contact and whether it was created."""
    for _ in range(3):
        for ref in identifier_refs(write, config):
            try:
                existing = await find_by_ref(tenant, config.keys, ref)
            except DomainError:
                continue  # a malformed identifier: the create below reports it properly
            if existing is not None:
                _, after = await mutate_contact(
                    tenant, config, str(existing["_id"]), with_write(write, config),
                    expected_version=write.expected_version, path=write.path,
                )  # fmt: skip
                return after, False
        try:
            return await create_contact(tenant, config, write), True
        except DomainError as exc:
            if exc.problems[0].code.value != "CONTACTS_RECORD_EXISTS":
                raise
            # created concurrently by another writer: go round and update it
    return await create_contact(tenant, config, write), True
