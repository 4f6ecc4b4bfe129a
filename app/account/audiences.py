"""Audiences: saved contact conditions, usable as ``contacts(audience: key)``."""

from __future__ import annotations

from typing import Any

from app.contacts.activity_conditions import activity_condition
from app.contacts.filters import build_contact_filter
from app.db import Database, Document
from app.errors import DomainError, ErrorCode

from . import repository
from .attributes import check_key, load_definitions


async def create_audience(
    account_id: str, db: Database, key: str, name: str | None, rule: dict[str, Any]
) -> Document:
    problems = check_key(key, ("input", "key"))
    if problems:
        raise DomainError(problems)
    definitions = await load_definitions(account_id, db)
    lists = {d["key"] for d in await repository.list_lists(account_id, db)}
    build_contact_filter(rule, definitions, lists, argument="rule")  # validates the rule
    activity_condition(rule, argument="rule")
    doc = {"key": key, "name": name or key, "rule": rule}
    if not await repository.insert_audience(account_id, db, doc):
        raise DomainError.one(
            ErrorCode.ACCOUNT_AUDIENCE_EXISTS, f"Audience {key!r} already exists", ("input", "key")
        )
    return doc


async def audience_rule(account_id: str, db: Database, key: str) -> dict[str, Any]:
    """A saved audience's rule (a contact ``where``)."""
    audience = await repository.get_audience(account_id, db, key)
    if audience is None:
        raise DomainError.one(ErrorCode.ACCOUNT_AUDIENCE_NOT_FOUND, f"No audience {key!r}", ("audience",))
    rule: dict[str, Any] = audience.get("rule") or {}
    return rule
