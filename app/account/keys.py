"""API keys: create (shown once, stored hashed), list, revoke, authenticate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app import process_wide
from app.auth import Principal, ScopeName, generate_key, hash_key
from app.db import Database, Document
from app.errors import DomainError, ErrorCode
from app.tenant import Tenant

from . import repository

# lastUsedAt is refreshed at most this often, so reads do not turn into writes.
TOUCH_EVERY = timedelta(minutes=1)


async def create_api_key(tenant: Tenant, name: str, scopes: frozenset[ScopeName]) -> tuple[str, Document]:
    """Returns the key (the only time it exists in clear) and its stored document."""
    if await repository.get_account(tenant) is None:
        raise DomainError.one(ErrorCode.VALIDATION_ERROR, f"No account {tenant.account_id!r}", ("account",))
    if not scopes:
        raise DomainError.one(ErrorCode.VALIDATION_ERROR, "Give the key at least one scope", ("scope",))
    key = generate_key()
    doc: Document = {
        "_id": hash_key(key),
        "name": name,
        "scopes": sorted(s.value for s in scopes),
        "createdAt": datetime.now(UTC),
        "lastUsedAt": None,
        "revokedAt": None,
    }
    await repository.insert_api_key(tenant, doc)
    return key, doc


async def authenticate(db: Database, key: str) -> Principal | None:
    doc = await process_wide.find_api_key(db, hash_key(key))
    if doc is None:
        return None
    now = datetime.now(UTC)
    last = doc.get("lastUsedAt")
    if last is None or now - last > TOUCH_EVERY:
        await repository.touch_api_key(Tenant(doc["accountId"], db), doc["_id"], now)
    return Principal(
        account_id=doc["accountId"],
        key_id=doc["_id"],
        scopes=frozenset(ScopeName(s) for s in doc.get("scopes", []) if s in ScopeName._value2member_map_),
        key_name=str(doc.get("name") or ""),
    )
