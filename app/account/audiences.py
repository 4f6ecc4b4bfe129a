"""Audiences: saved contact conditions, usable as ``contacts(audience: key)``."""

from __future__ import annotations

from typing import Any

from app.contacts.activity_conditions import activity_condition
from app.contacts.filters import ContactFilter, build_contact_filter
from app.db import Document
from app.errors import DomainError, ErrorCode
from app.tenant import Tenant

from . import repository
from .attributes import check_key, load_definitions


async def create_audience(tenant: Tenant, key: str, name: str | None, rule: dict[str, Any]) -> Document:
    problems = check_key(key, ("input", "key"))
    if problems:
        raise DomainError(problems)
    definitions = await load_definitions(tenant)
    lists = {d["key"] for d in await repository.list_lists(tenant)}
    conditions = ContactFilter.from_dict(rule, "rule")  # validated, then stored as given
    build_contact_filter(conditions, definitions, lists, argument="rule")
    activity_condition(conditions.activity, argument="rule")
    doc = {"key": key, "name": name or key, "rule": rule}
    if not await repository.insert_audience(tenant, doc):
        raise DomainError.one(
            ErrorCode.ACCOUNT_AUDIENCE_EXISTS, f"Audience {key!r} already exists", ("input", "key")
        )
    return doc


async def audience_rule(tenant: Tenant, key: str) -> dict[str, Any]:
    """A saved audience's rule (a contact ``where``)."""
    audience = await repository.get_audience(tenant, key)
    if audience is None:
        raise DomainError.one(ErrorCode.ACCOUNT_AUDIENCE_NOT_FOUND, f"No audience {key!r}", ("audience",))
    rule: dict[str, Any] = audience.get("rule") or {}
    return rule
