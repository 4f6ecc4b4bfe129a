"""Database access for jobs and their result files. Every function takes the account id
first and scopes by it; what serves the whole process (the queue claim, the file purge,
the /metrics gauge) is in ``app.process_wide``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bson import Binary, ObjectId
from gridfs import AsyncGridFSBucket
from pymongo import ReturnDocument

from app.db import ACTIVITY_REPORTS, JOBS, MAX_TIME, Database, Document, docs_by_node_ids, scoped, watch
from app.db import count as db_count
from app.db import find_page as db_find_page

RETENTION = timedelta(days=10)
FILES_BUCKET = "downloads"
CHUNK_SIZE = 255 * 1024  # the GridFS default
TERMINAL = ("COMPLETED", "CANCELLED", "FAILED", "TIMED_OUT")
STATES = ("INITIALIZED", "PROCESSING", *TERMINAL)


async def insert(
    account_id: str, db: Database, kind: str, job_input: Document, source_file_name: str | None
) -> Document:
    now = datetime.now(UTC)
    doc: Document = scoped(
        account_id,
        {
            "_id": ObjectId(),
            "kind": kind,
            "state": "INITIALIZED",
            "percentDone": 0,
            "counts": {},
            "errors": [],
            "input": job_input,
            "result": {},
            "sourceFileName": source_file_name,
            "createdAt": now,
            "updatedAt": now,
            "startedAt": None,
            "completedAt": None,
            "attempts": 0,
            "cancelRequested": False,
            "leaseUntil": None,
            "expireAt": now + RETENTION,
        },
    )
    await db[JOBS].insert_one(doc)
    return doc


async def get(account_id: str, db: Database, job_id: ObjectId) -> Document | None:
    return await db[JOBS].find_one(scoped(account_id, {"_id": job_id}), max_time_ms=MAX_TIME.request)


async def find_page(
    account_id: str, db: Database, query: Document, sort: list[tuple[str, int]], limit: int
) -> list[Document]:
    return await db_find_page(db[JOBS], account_id, query, sort, limit)


async def count(account_id: str, db: Database, query: Document) -> int:
    return await db_count(db[JOBS], account_id, query)


async def heartbeat(
    account_id: str, db: Database, job_id: ObjectId, owner: str, lease: timedelta, fields: Document
) -> Document | None:
    """Write progress and renew the lease, only while this worker still holds it. Returns
    the job (None when the lease was lost to another worker)."""
    now = datetime.now(UTC)
    return await db[JOBS].find_one_and_update(
        scoped(account_id, {"_id": job_id, "leaseOwner": owner, "state": "PROCESSING"}),
        {"$set": {**fields, "leaseUntil": now + lease, "updatedAt": now}},
        return_document=ReturnDocument.AFTER,
        maxTimeMS=MAX_TIME.request,
    )


async def forget_sealed(account_id: str, db: Database, job_id: ObjectId) -> None:
    """Drop the sealed credentials of a job's destination once the upload is over."""
    await db[JOBS].update_one(
        scoped(account_id, {"_id": job_id}), {"$unset": {"input.destination.sealed": ""}}
    )


async def release(account_id: str, db: Database, job_id: ObjectId, owner: str) -> bool:
    """Hand a running job back to the queue: claimable at once by any worker, with its
    progress kept and this claim not counted as an attempt."""
    now = datetime.now(UTC)
    result = await db[JOBS].update_one(
        scoped(account_id, {"_id": job_id, "leaseOwner": owner, "state": "PROCESSING"}),
        {"$set": {"leaseUntil": now, "leaseOwner": None, "updatedAt": now}, "$inc": {"attempts": -1}},
    )
    return result.modified_count == 1


async def finish(
    account_id: str, db: Database, job_id: ObjectId, owner: str | None, fields: Document
) -> bool:
    """Move the job to a terminal state (by its lease holder, or anyone when owner is None)."""
    now = datetime.now(UTC)
    query: Document = {"_id": job_id, "state": {"$nin": list(TERMINAL)}}
    if owner is not None:
        query["leaseOwner"] = owner
    result = await db[JOBS].update_one(
        scoped(account_id, query),
        {"$set": {**fields, "completedAt": now, "updatedAt": now, "leaseUntil": None}},
    )
    return result.modified_count == 1


async def request_cancel(account_id: str, db: Database, job_id: ObjectId) -> Document | None:
    """New jobs are cancelled at once; running ones at their next progress write."""
    now = datetime.now(UTC)
    jobs = db[JOBS]
    await jobs.update_one(
        scoped(account_id, {"_id": job_id, "state": "INITIALIZED"}),
        {"$set": {"state": "CANCELLED", "completedAt": now, "updatedAt": now, "cancelRequested": True}},
    )
    await jobs.update_one(
        scoped(account_id, {"_id": job_id, "state": "PROCESSING"}),
        {"$set": {"cancelRequested": True, "updatedAt": now}},
    )
    return await get(account_id, db, job_id)


async def watch_job(account_id: str, db: Database, job_id: ObjectId) -> AsyncIterator[Document]:
    async for change in watch(db[JOBS], account_id, {"documentKey._id": job_id}):
        if change.get("fullDocument"):
            yield change["fullDocument"]


# -- result files (GridFS), each tagged with its account --------------------------------


def _bucket(db: Database) -> AsyncGridFSBucket:
    return AsyncGridFSBucket(db, bucket_name=FILES_BUCKET)


async def store_file(
    account_id: str, db: Database, filename: str, content_type: str, chunks: AsyncIterator[bytes]
) -> tuple[ObjectId, int]:
    """Stream ``chunks`` into a new GridFS file, one 255 kB chunk in memory at a time (the
    driver's GridIn would buffer up to 48 MB); returns its id and size. Standard GridFS
    layout, so the bucket reads it; each chunk carries the accountId too."""
    file_id = ObjectId()
    store = db[f"{FILES_BUCKET}.chunks"]
    pending = bytearray()
    size = n = 0

    async def put(data: bytes) -> None:
        nonlocal n
        await store.insert_one({"files_id": file_id, "n": n, "data": Binary(data), "accountId": account_id})
        n += 1

    try:
        async for data in chunks:
            pending += data
            size += len(data)
            while len(pending) >= CHUNK_SIZE:
                await put(bytes(pending[:CHUNK_SIZE]))
                del pending[:CHUNK_SIZE]
        if pending or n == 0:
            await put(bytes(pending))
        metadata = {
            "accountId": account_id,
            "contentType": content_type,
            "expireAt": datetime.now(UTC) + RETENTION,
        }
        await db[f"{FILES_BUCKET}.files"].insert_one(
            {"_id": file_id, "length": size, "chunkSize": CHUNK_SIZE, "uploadDate": datetime.now(UTC),
             "filename": filename, "metadata": metadata}
        )  # fmt: skip
    except BaseException:
        await store.delete_many({"files_id": file_id, "accountId": account_id})
        raise
    return file_id, size


@dataclass(frozen=True, slots=True)
class StoredFile:
    filename: str
    length: int
    content_type: str
    chunks: AsyncIterator[bytes]


async def open_file(account_id: str, db: Database, file_id: ObjectId) -> StoredFile | None:
    """The file if it belongs to this account, its chunks read a few at a time."""
    meta = await db[f"{FILES_BUCKET}.files"].find_one(
        {"_id": file_id, "metadata.accountId": account_id}, max_time_ms=MAX_TIME.request
    )
    if meta is None:
        return None

    async def chunks() -> AsyncIterator[bytes]:
        cursor = db[f"{FILES_BUCKET}.chunks"].find(
            {"files_id": file_id, "accountId": account_id}, {"data": 1}, max_time_ms=MAX_TIME.request
        )
        async for chunk in cursor.sort("n", 1).batch_size(4):
            yield bytes(chunk["data"])

    content_type = (meta.get("metadata") or {}).get("contentType", "application/octet-stream")
    return StoredFile(meta["filename"], int(meta["length"]), content_type, chunks())


async def delete_files(account_id: str, db: Database, file_ids: Sequence[ObjectId]) -> None:
    files = db[f"{FILES_BUCKET}.files"]
    async for doc in files.find(
        {"_id": {"$in": list(file_ids)}, "metadata.accountId": account_id},
        {"_id": 1},
        max_time_ms=MAX_TIME.request,
    ):
        await _bucket(db).delete(doc["_id"])


# -- activity reports -------------------------------------------------------------------


async def insert_report(account_id: str, db: Database, doc: Document) -> None:
    await db[ACTIVITY_REPORTS].insert_one(scoped(account_id, doc))


async def get_report(account_id: str, db: Database, report_id: ObjectId) -> Document | None:
    return await db[ACTIVITY_REPORTS].find_one(
        scoped(account_id, {"_id": report_id}), max_time_ms=MAX_TIME.request
    )


async def update_report(account_id: str, db: Database, report_id: ObjectId, fields: Document) -> None:
    await db[ACTIVITY_REPORTS].update_one(scoped(account_id, {"_id": report_id}), {"$set": fields})


async def delete_report(account_id: str, db: Database, report_id: ObjectId) -> None:
    await db[ACTIVITY_REPORTS].delete_one(scoped(account_id, {"_id": report_id}))


async def reports_page(
    account_id: str, db: Database, query: Document, sort: list[tuple[str, int]], limit: int
) -> list[Document]:
    return await db_find_page(db[ACTIVITY_REPORTS], account_id, query, sort, limit)


async def reports_count(account_id: str, db: Database, query: Document) -> int:
    return await db_count(db[ACTIVITY_REPORTS], account_id, query)


async def jobs_by_node_ids(account_id: str, db: Database, node_ids: Sequence[str]) -> list[Document | None]:
    return await docs_by_node_ids(db[JOBS], account_id, node_ids)


async def reports_by_node_ids(
    account_id: str, db: Database, node_ids: Sequence[str]
) -> list[Document | None]:
    return await docs_by_node_ids(db[ACTIVITY_REPORTS], account_id, node_ids)
