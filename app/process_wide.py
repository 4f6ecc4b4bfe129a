"""The only database access that is not scoped to one account.

Everything else goes through a repository function that takes the account id and scopes
every filter by it (``app.db.scoped``, ``app.db.watch``). What is here serves the whole
process, and each function says why it needs no account:

* ``find_api_key``: authentication looks a key up by its hash to learn its account;
* ``claim_next_job``: a job worker serves every account's queue;
* ``count_jobs_by_state``: the /metrics gauge (counts only, no document leaves);
* ``purge_expired_files``: maintenance of result files past their job's retention;
* ``list_accounts``: the operator's ``contactgraph account list`` (ids and names only).

A new unscoped read belongs here, or nowhere.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gridfs import AsyncGridFSBucket
from pymongo import ReturnDocument

from app.db import ACCOUNTS, API_KEYS, JOBS, MAX_TIME, Database, Document
from app.jobs.repository import FILES_BUCKET


async def find_api_key(db: Database, key_hash: str) -> Document | None:
    """The live (unrevoked) key with this hash: the key is what tells us the account."""
    return await db[API_KEYS].find_one({"_id": key_hash, "revokedAt": None}, max_time_ms=MAX_TIME.request)


async def claim_next_job(db: Database, owner: str, lease: timedelta) -> Document | None:
    """Take the oldest job that is new, or whose worker's lease ran out (any account: a
    worker serves every account). Everything after the claim goes through the job's own
    account (``app.jobs.repository``)."""
    now = datetime.now(UTC)
    query = {
        "$or": [
            {"state": "INITIALIZED"},
            {"state": "PROCESSING", "leaseUntil": {"$lt": now}},
        ]
    }
    update = {
        "$set": {"state": "PROCESSING", "leaseOwner": owner, "leaseUntil": now + lease, "updatedAt": now},
        "$inc": {"attempts": 1},
    }
    return await db[JOBS].find_one_and_update(
        query,
        update,
        sort=[("createdAt", 1)],
        return_document=ReturnDocument.AFTER,
        maxTimeMS=MAX_TIME.request,
    )


async def count_jobs_by_state(db: Database) -> dict[str, int]:
    """How many jobs are in each state, all accounts together (one aggregation)."""
    pipeline = [{"$group": {"_id": "$state", "n": {"$sum": 1}}}]
    groups = await (await db[JOBS].aggregate(pipeline, maxTimeMS=MAX_TIME.request)).to_list()
    return {g["_id"]: g["n"] for g in groups}


async def purge_expired_files(db: Database) -> int:
    """Maintenance across accounts: result files live as long as their job (10 days)."""
    files = db[f"{FILES_BUCKET}.files"]
    expired = [
        d["_id"]
        async for d in files.find(
            {"metadata.expireAt": {"$lt": datetime.now(UTC)}}, {"_id": 1}, max_time_ms=MAX_TIME.request
        )
    ]
    for file_id in expired:
        await AsyncGridFSBucket(db, bucket_name=FILES_BUCKET).delete(file_id)
    return len(expired)


async def list_accounts(db: Database) -> list[Document]:
    """Every account's id, name, keys and creation time, oldest first (for the operator's CLI)."""
    fields = {"name": 1, "primaryKey": 1, "secondaryKeys": 1, "createdAt": 1}
    return await db[ACCOUNTS].find({}, fields, max_time_ms=MAX_TIME.request).sort("_id", 1).to_list()
