"""Account lists: contacts are members of lists by key."""

from __future__ import annotations

from app.db import Document
from app.errors import DomainError, ErrorCode
from app.tenant import Tenant

from . import repository
from .attributes import check_key


async def create_list(tenant: Tenant, key: str, name: str | None) -> Document:
    problems = check_key(key, ("input", "key"))
    if problems:
        raise DomainError(problems)
    if await repository.key_in_use(tenant, key) == "attribute":
        raise DomainError.one(
            ErrorCode.VALIDATION_ERROR, f"Key {key!r} is already an attribute key", ("input", "key")
        )
    doc = {"key": key, "name": name or key}
    if not await repository.insert_list(tenant, doc):
        raise DomainError.one(ErrorCode.ACCOUNT_LIST_EXISTS, f"List {key!r} already exists", ("input", "key"))
    return doc
