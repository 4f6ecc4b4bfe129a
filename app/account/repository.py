"""Database access for account configuration, through the caller's account
(``app.tenant``); the API-key lookup by hash, which has no account yet, is in
``app.process_wide``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError, OperationFailure

from app.db import (
    ACCOUNTS,
    API_KEYS,
    ATTRIBUTE_DEFINITIONS,
    AUDIENCES,
    CONTACTS,
    EVENT_PROPERTIES,
    LISTS,
    RATE_LIMITS,
    Document,
    DuplicateKey,
    secondary_key_indexes,
)
from app.tenant import Tenant

_NO_ID = {"_id": 0}


async def get_account(tenant: Tenant) -> Document | None:
    return await tenant[ACCOUNTS].find_one({"_id": tenant.account_id})


async def insert_account(tenant: Tenant, doc: Document) -> bool:
    """False when the account already exists."""
    try:
        await tenant[ACCOUNTS].insert_one({**doc, "_id": tenant.account_id})
    except DuplicateKeyError:
        return False
    return True


async def set_identifier_keys(tenant: Tenant, primary_key: str, secondary_keys: list[str]) -> None:
    """Store the keys and create a unique index for each non-email key before using it.
    DuplicateKey when existing contacts already share a value of one of them."""
    keys = set(secondary_keys) | ({primary_key} - {"email"})
    if keys:
        try:
            await tenant[CONTACTS].create_indexes([m for k in sorted(keys) for m in secondary_key_indexes(k)])
        except OperationFailure as exc:  # the unique index cannot be built over duplicates
            raise DuplicateKey(tuple(f"attributes.{k}" for k in sorted(keys))) from exc
    await tenant[ACCOUNTS].update_one(
        {"_id": tenant.account_id},
        {"$set": {"primaryKey": primary_key, "secondaryKeys": secondary_keys}},
    )


# -- API keys ---------------------------------------------------------------------------


async def lease_budget(
    tenant: Tenant,
    key_id: str,
    *,
    now: float,
    capacity: float,
    rate: float,
    want: float,
    need: float,
) -> tuple[float, float]:
    """Take points from an API key's shared cost budget (a leaky bucket every gateway replica
    draws from), in one atomic update: the bucket refills ``rate`` points a second up to
    ``capacity``, then grants up to ``want`` points if it holds at least ``need``, else none.
    Returns (granted, left). ``now`` is this replica's clock, in seconds."""
    elapsed = {"$max": [0, {"$subtract": [now, {"$ifNull": ["$at", now]}]}]}
    refilled = {
        "$min": [capacity, {"$add": [{"$ifNull": ["$level", capacity]}, {"$multiply": [elapsed, rate]}]}]
    }
    pipeline: list[Document] = [
        {"$set": {"level": refilled, "at": now}},
        {"$set": {"granted": {"$cond": [{"$gte": ["$level", need]}, {"$min": ["$level", want]}, 0]}}},
        {"$set": {"level": {"$subtract": ["$level", "$granted"]}}},
    ]
    doc = await tenant[RATE_LIMITS].find_one_and_update(
        {"_id": key_id},
        pipeline,
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:  # an upsert returning the document after it: never
        return 0.0, 0.0
    return float(doc["granted"]), float(doc["level"])


async def insert_api_key(tenant: Tenant, doc: Document) -> None:
    await tenant[API_KEYS].insert_one(doc)


async def list_api_keys(tenant: Tenant) -> list[Document]:
    return await tenant[API_KEYS].find().sort("createdAt", 1).to_list()


async def revoke_api_key(tenant: Tenant, key_id_prefix: str, at: datetime) -> int:
    result = await tenant[API_KEYS].update_many(
        {"_id": {"$regex": f"^{re.escape(key_id_prefix)}"}, "revokedAt": None},
        {"$set": {"revokedAt": at}},
    )
    return result.modified_count


async def touch_api_key(tenant: Tenant, key_hash: str, at: datetime) -> None:
    await tenant[API_KEYS].update_one({"_id": key_hash}, {"$set": {"lastUsedAt": at}})


# -- attribute definitions, lists, audiences, event properties -------------------------


async def list_attribute_definitions(tenant: Tenant) -> list[Document]:
    return await tenant[ATTRIBUTE_DEFINITIONS].find(None, _NO_ID).sort("key", 1).to_list()


async def insert_attribute_definition(tenant: Tenant, doc: Document) -> bool:
    return await _insert_unique(tenant, ATTRIBUTE_DEFINITIONS, doc)


async def list_lists(tenant: Tenant) -> list[Document]:
    return await tenant[LISTS].find(None, _NO_ID).sort("key", 1).to_list()


async def insert_list(tenant: Tenant, doc: Document) -> bool:
    return await _insert_unique(tenant, LISTS, doc)


async def list_audiences(tenant: Tenant) -> list[Document]:
    return await tenant[AUDIENCES].find(None, _NO_ID).sort("key", 1).to_list()


async def get_audience(tenant: Tenant, key: str) -> Document | None:
    return await tenant[AUDIENCES].find_one({"key": key}, _NO_ID)


async def find_audiences(tenant: Tenant, keys: Sequence[str]) -> list[Document]:
    """The audiences of these keys (those that exist), in one command."""
    return await tenant[AUDIENCES].find({"key": {"$in": list(keys)}}, _NO_ID).to_list()


async def insert_audience(tenant: Tenant, doc: Document) -> bool:
    return await _insert_unique(tenant, AUDIENCES, doc)


async def list_event_properties(tenant: Tenant) -> list[Document]:
    cursor = tenant[EVENT_PROPERTIES].find(None, _NO_ID)
    return await cursor.sort([("action", 1), ("key", 1)]).to_list()


async def key_in_use(tenant: Tenant, key: str) -> str | None:
    """Attributes and lists share one namespace of keys; which one holds ``key``, if any."""
    for collection, kind in ((ATTRIBUTE_DEFINITIONS, "attribute"), (LISTS, "list")):
        if await tenant[collection].find_one({"key": key}, {"_id": 1}):
            return kind
    return None


async def _insert_unique(tenant: Tenant, collection: str, doc: dict[str, Any]) -> bool:
    try:
        await tenant[collection].insert_one(doc)
    except DuplicateKeyError:
        return False
    return True
