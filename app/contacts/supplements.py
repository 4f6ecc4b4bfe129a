"""Supplements: named JSON records of a contact (``supplements.<key>``), written one key at a
time with the same rules as attribute values: sanitised JSON keys, at most 20 levels deep,
strings of at most 10,000 characters, and the contact within its 1 MiB. The contact's
version and lastModified move with every change, as for any contact write; the merge option
``supplements`` chooses which side wins a key both contacts have."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.account.attributes import check_key
from app.account.config import AccountConfig
from app.db import Document
from app.errors import DomainError, ErrorCode
from app.sizes import MAX_JSON_DEPTH, MAX_STRING_LENGTH, too_deep
from app.tenant import Tenant

from .writes import check_size, mutate_contact

MAX_SUPPLEMENTS = 100
"""Supplement keys of one contact."""


def _longest_string(value: Any) -> int:
    stack, longest = [value], 0
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            longest = max(longest, len(item))
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return longest


def _check(key: str, data: Any) -> None:
    problems = check_key(key, ("key",))
    if problems:
        raise DomainError(problems)
    if data is None:
        raise DomainError.one(
            ErrorCode.VALIDATION_ERROR, "data is required (supplementDelete removes one)", ("data",)
        )
    if too_deep(data):
        raise DomainError.one(
            ErrorCode.VALIDATION_ERROR,
            f"data nests at most {MAX_JSON_DEPTH} levels of objects and arrays",
            ("data",),
        )
    longest = _longest_string(data)
    if longest > MAX_STRING_LENGTH:
        raise DomainError.one(
            ErrorCode.VALIDATION_ERROR,
            f"Strings are at most {MAX_STRING_LENGTH:,} characters, got {longest:,}",
            ("data",),
        )


async def record_supplement(
    tenant: Tenant,
    config: AccountConfig,
    ref: str,
    key: str,
    data: Any,
    expected_version: int | None = None,
) -> Document:
    """Set the contact's supplement ``key`` to ``data``; the contact after the write."""
    _check(key, data)

    def change(current: Document, now: datetime) -> Document:
        supplements = dict(current.get("supplements") or {})
        if key not in supplements and len(supplements) >= MAX_SUPPLEMENTS:
            raise DomainError.one(
                ErrorCode.VALIDATION_ERROR, f"A contact has at most {MAX_SUPPLEMENTS} supplements", ("key",)
            )
        if supplements.get(key) == data:
            return current
        supplements[key] = data
        updated = {**current, "supplements": supplements}
        check_size(updated, ("data",))  # named here; mutate_contact checks again after stamping
        return updated

    _, after = await mutate_contact(tenant, config, ref, change, expected_version=expected_version, path=())
    return after


async def delete_supplement(
    tenant: Tenant, config: AccountConfig, ref: str, key: str
) -> tuple[Document, bool]:
    """Remove the contact's supplement ``key``: (the contact after, whether it had one)."""

    def change(current: Document, now: datetime) -> Document:
        supplements = dict(current.get("supplements") or {})
        if key not in supplements:
            return current
        del supplements[key]
        return {**current, "supplements": supplements}

    before, after = await mutate_contact(tenant, config, ref, change, path=())
    return after, before is not after
