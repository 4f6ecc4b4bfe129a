"""Creating an account and choosing its identifier keys (primary and secondary)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.db import Database, Document, DuplicateKey
from app.errors import DomainError, ErrorCode, Problem
from app.tenant import Tenant

from . import repository
from .attributes import AttributeDefinition, AttributeType, check_key, create_attribute, load_definitions

IDENTIFIER_TYPES = (AttributeType.STRING, AttributeType.NUMBER)


async def create_account(
    db: Database,
    account_id: str,
    name: str,
    *,
    primary_key: str = "email",
    secondary_keys: tuple[str, ...] = (),
) -> Document:
    """Create the account; non-email identifier keys get a string attribute if none exists."""
    problems = check_key(account_id, ("accountId",))
    if problems:
        raise DomainError(problems)
    tenant = Tenant(account_id, db)
    created = await repository.insert_account(
        tenant,
        {"name": name, "primaryKey": "email", "secondaryKeys": [], "createdAt": datetime.now(UTC)},
    )
    if not created:
        raise DomainError.one(
            ErrorCode.VALIDATION_ERROR, f"Account {account_id!r} already exists", ("accountId",)
        )
    definitions = await load_definitions(tenant)
    for key in {primary_key, *secondary_keys} - {"email"} - set(definitions):
        await create_attribute(tenant, AttributeDefinition(key, key, AttributeType.STRING))
    await set_identifier_keys(tenant, primary_key, list(secondary_keys))
    account = await repository.get_account(tenant)
    assert account is not None
    return account


async def set_identifier_keys(tenant: Tenant, primary_key: str, secondary_keys: list[str]) -> None:
    """Keys other than email must be defined string or number attributes; each is unique."""
    definitions = await load_definitions(tenant)
    problems: list[Problem] = []
    for i, key in enumerate([primary_key, *secondary_keys]):
        path = ("primaryKey",) if i == 0 else ("secondaryKeys", str(i - 1))
        if key == "email":
            if i > 0:
                problems.append(Problem(ErrorCode.VALIDATION_ERROR, "email cannot be a secondary key", path))
            continue
        definition = definitions.get(key)
        if definition is None or definition.type not in IDENTIFIER_TYPES:
            problems.append(
                Problem(
                    ErrorCode.VALIDATION_ERROR,
                    f"Identifier key {key!r} must be a defined string or number attribute",
                    path,
                )
            )
    if len(set(secondary_keys)) != len(secondary_keys) or primary_key in secondary_keys:
        problems.append(
            Problem(ErrorCode.VALIDATION_ERROR, "Identifier keys must be distinct", ("secondaryKeys",))
        )
    if problems:
        raise DomainError(problems)
    try:
        await repository.set_identifier_keys(tenant, primary_key, secondary_keys)
    except DuplicateKey as exc:  # existing duplicates make the unique index impossible
        raise DomainError.one(
            ErrorCode.VALIDATION_ERROR,
            "Cannot make these keys unique: existing contacts share a value",
            ("secondaryKeys",),
        ) from exc
