"""Database access for account configuration. Every function takes the account id first
(the API-key lookup by hash, which has no account yet, is in ``app.process_wide``)."""

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
    MAX_TIME,
    RATE_LIMITS,
    Database,
    Document,
    DuplicateKey,
    create_indexes,
    scoped,
    secondary_key_indexes,
)

_NO_ID = {"_id": 0}


async def get_account(account_id: str, db: Database) -> Document | None:
    return await db[ACCOUNTS].find_one(scoped(account_id, {"_id": account_id}), max_time_ms=MAX_TIME.request)


async def insert_account(account_id: str, db: Database, doc: Document) -> bool:
    """False when the account already exists."""
    try:
        await db[ACCOUNTS].insert_one({**doc, "_id": account_id, "accountId": account_id})
    except DuplicateKeyError:
        return False
    return True


async def set_identifier_keys(
    account_id: str, db: Database, primary_key: str, secondary_keys: list[str]
) -> None:
    """Store the keys and create a unique index for each non-email key before using it.
    DuplicateKey when existing contacts already share a value of one of them."""
    keys = set(secondary_keys) | ({primary_key} - {"email"})
    if keys:
        try:
            await create_indexes(db[CONTACTS], [m for k in sorted(keys) for m in secondary_key_indexes(k)])
        except OperationFailure as exc:  # the unique index cannot be built over duplicates
            raise DuplicateKey(tuple(f"attributes.{k}" for k in sorted(keys))) from exc
    await db[ACCOUNTS].update_one(
        scoped(account_id, {"_id": account_id}),
        {"$set": {"primaryKey": primary_key, "secondaryKeys": secondary_keys}},
    )


# -- API keys ---------------------------------------------------------------------------


async def lease_budget(
    account_id: str,
    db: Database,
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
    doc = await db[RATE_LIMITS].find_one_and_update(
        scoped(account_id, {"_id": key_id}),
        pipeline,
        upsert=True,
        return_document=ReturnDocument.AFTER,
        maxTimeMS=MAX_TIME.request,
    )
    if doc is None:  # an upsert returning the document after it: never
        return 0.0, 0.0
    return float(doc["granted"]), float(doc["level"])


async def insert_api_key(account_id: str, db: Database, doc: Document) -> None:
    await db[API_KEYS].insert_one(scoped(account_id, doc))


async def list_api_keys(account_id: str, db: Database) -> list[Document]:
    return (
        await db[API_KEYS]
        .find(scoped(account_id), max_time_ms=MAX_TIME.request)
        .sort("createdAt", 1)
        .to_list()
    )


async def revoke_api_key(account_id: str, db: Database, key_id_prefix: str, at: datetime) -> int:
    result = await db[API_KEYS].update_many(
        scoped(account_id, {"_id": {"$regex": f"^{re.escape(key_id_prefix)}"}, "revokedAt": None}),
        {"$set": {"revokedAt": at}},
    )
    return result.modified_count


async def touch_api_key(account_id: str, db: Database, key_hash: str, at: datetime) -> None:
    await db[API_KEYS].update_one(scoped(account_id, {"_id": key_hash}), {"$set": {"lastUsedAt": at}})


# -- attribute definitions, lists, audiences, event properties -------------------------


async def list_attribute_definitions(account_id: str, db: Database) -> list[Document]:
    return (
        await db[ATTRIBUTE_DEFINITIONS]
        .find(scoped(account_id), _NO_ID, max_time_ms=MAX_TIME.request)
        .sort("key", 1)
        .to_list()
    )


async def insert_attribute_definition(account_id: str, db: Database, doc: Document) -> bool:
    return await _insert_unique(account_id, db, ATTRIBUTE_DEFINITIONS, doc)


async def list_lists(account_id: str, db: Database) -> list[Document]:
    return (
        await db[LISTS]
        .find(scoped(account_id), _NO_ID, max_time_ms=MAX_TIME.request)
        .sort("key", 1)
        .to_list()
    )


async def insert_list(account_id: str, db: Database, doc: Document) -> bool:
    return await _insert_unique(account_id, db, LISTS, doc)


async def list_audiences(account_id: str, db: Database) -> list[Document]:
    return (
        await db[AUDIENCES]
        .find(scoped(account_id), _NO_ID, max_time_ms=MAX_TIME.request)
        .sort("key", 1)
        .to_list()
    )


async def get_audience(account_id: str, db: Database, key: str) -> Document | None:
    return await db[AUDIENCES].find_one(
        scoped(account_id, {"key": key}), _NO_ID, max_time_ms=MAX_TIME.request
    )


async def find_audiences(account_id: str, db: Database, keys: Sequence[str]) -> list[Document]:
    """The audiences of these keys (those that exist), in one command."""
    return (
        await db[AUDIENCES]
        .find(scoped(account_id, {"key": {"$in": list(keys)}}), _NO_ID, max_time_ms=MAX_TIME.request)
        .to_list()
    )


async def insert_audience(account_id: str, db: Database, doc: Document) -> bool:
    return await _insert_unique(account_id, db, AUDIENCES, doc)


async def list_event_properties(account_id: str, db: Database) -> list[Document]:
    cursor = db[EVENT_PROPERTIES].find(scoped(account_id), _NO_ID, max_time_ms=MAX_TIME.request)
    return await cursor.sort([("action", 1), ("key", 1)]).to_list()


async def key_in_use(account_id: str, db: Database, key: str) -> str | None:
    """Attributes and lists share one namespace of keys; which one holds ``key``, if any."""
    for collection, kind in ((ATTRIBUTE_DEFINITIONS, "attribute"), (LISTS, "list")):
        if await db[collection].find_one(
            scoped(account_id, {"key": key}), {"_id": 1}, max_time_ms=MAX_TIME.request
        ):
            return kind
    return None


async def _insert_unique(account_id: str, db: Database, collection: str, doc: dict[str, Any]) -> bool:
    try:
        await db[collection].insert_one(scoped(account_id, doc))
    except DuplicateKeyError:
        return False
    return True
