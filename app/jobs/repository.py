"""Database access for jobs and their result files, through the caller's account
(``app.tenant``); what serves the whole process (the queue claim, the file purge, the
/metrics gauge) is in ``app.process_wide``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bson import Binary, ObjectId
from pymongo import ReturnDocument

from app.db import ACTIVITY_REPORTS, JOBS, Document
from app.pagination import PageSource
from app.tenant import Tenant

RETENTION = timedelta(days=10)
FILES_BUCKET = "downloads"
CHUNK_SIZE = 255 * 1024  # the GridFS default
TERMINAL = ("COMPLETED", "CANCELLED", "FAILED", "TIMED_OUT")
STATES = ("INITIALIZED", "PROCESSING", *TERMINAL)


async def insert(tenant: Tenant, kind: str, job_input: Document, source_file_name: str | None) -> Document:
    now = datetime.now(UTC)
    doc: Document = tenant[JOBS].stamped(
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
        }
    )
    await tenant[JOBS].insert_one(doc)
    return doc


async def get(tenant: Tenant, job_id: ObjectId) -> Document | None:
    return await tenant[JOBS].find_one({"_id": job_id})


def pages(tenant: Tenant) -> PageSource:
    return tenant[JOBS].pages()


async def heartbeat(
    tenant: Tenant, job_id: ObjectId, owner: str, lease: timedelta, fields: Document
) -> Document | None:
    """Write progress and renew the lease, only while this worker still holds it. Returns
    the job (None when the lease was lost to another worker)."""
    now = datetime.now(UTC)
    return await tenant[JOBS].find_one_and_update(
        {"_id": job_id, "leaseOwner": owner, "state": "PROCESSING"},
        {"$set": {**fields, "leaseUntil": now + lease, "updatedAt": now}},
        return_document=ReturnDocument.AFTER,
    )


async def forget_sealed(tenant: Tenant, job_id: ObjectId) -> None:
    """Drop the sealed credentials of a job's destination once the upload is over."""
    await tenant[JOBS].update_one({"_id": job_id}, {"$unset": {"input.destination.sealed": ""}})


async def release(tenant: Tenant, job_id: ObjectId, owner: str) -> bool:
    """Hand a running job back to the queue: claimable at once by any worker, with its
    progress kept and this claim not counted as an attempt."""
    now = datetime.now(UTC)
    result = await tenant[JOBS].update_one(
        {"_id": job_id, "leaseOwner": owner, "state": "PROCESSING"},
        {"$set": {"leaseUntil": now, "leaseOwner": None, "updatedAt": now}, "$inc": {"attempts": -1}},
    )
    return result.modified_count == 1


async def finish(tenant: Tenant, job_id: ObjectId, owner: str | None, fields: Document) -> bool:
    """Move the job to a terminal state (by its lease holder, or anyone when owner is None)."""
    now = datetime.now(UTC)
    query: Document = {"_id": job_id, "state": {"$nin": list(TERMINAL)}}
    if owner is not None:
        query["leaseOwner"] = owner
    result = await tenant[JOBS].update_one(
        query,
        {"$set": {**fields, "completedAt": now, "updatedAt": now, "leaseUntil": None}},
    )
    return result.modified_count == 1


async def request_cancel(tenant: Tenant, job_id: ObjectId) -> Document | None:
    """New jobs are cancelled at once; running ones at their next progress write."""
    now = datetime.now(UTC)
    jobs = tenant[JOBS]
    await jobs.update_one(
        {"_id": job_id, "state": "INITIALIZED"},
        {"$set": {"state": "CANCELLED", "completedAt": now, "updatedAt": now, "cancelRequested": True}},
    )
    await jobs.update_one(
        {"_id": job_id, "state": "PROCESSING"},
        {"$set": {"cancelRequested": True, "updatedAt": now}},
    )
    return await get(tenant, job_id)


async def watch_job(tenant: Tenant, job_id: ObjectId) -> AsyncIterator[Document | None]:
    """The job as it is once watching has started (None when the account has no such job),
    then each time it changes: a change made while the watch was starting is not missed."""
    changes = tenant[JOBS].watch({"documentKey._id": job_id}, current=lambda: get(tenant, job_id))
    async for change in changes:
        if change["operationType"] == "current" or change.get("fullDocument"):
            yield change["fullDocument"]


# -- result files (GridFS), each tagged with its account --------------------------------


async def store_file(
    tenant: Tenant, filename: str, content_type: str, chunks: AsyncIterator[bytes]
) -> tuple[ObjectId, int]:
    """Stream ``chunks`` into a new GridFS file, one 255 kB chunk in memory at a time (the
    driver's GridIn would buffer up to 48 MB); returns its id and size. Standard GridFS
    layout, so the bucket reads it; each chunk carries the accountId too."""
    file_id = ObjectId()
    store = tenant[f"{FILES_BUCKET}.chunks"]
    pending = bytearray()
    size = n = 0

    async def put(data: bytes) -> None:
        nonlocal n
        await store.insert_one({"files_id": file_id, "n": n, "data": Binary(data)})
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
            "contentType": content_type,
            "expireAt": datetime.now(UTC) + RETENTION,
        }
        await tenant.files(FILES_BUCKET).insert_one(
            {"_id": file_id, "length": size, "chunkSize": CHUNK_SIZE, "uploadDate": datetime.now(UTC),
             "filename": filename, "metadata": metadata}
        )  # fmt: skip
    except BaseException:
        await store.delete_many({"files_id": file_id})
        raise
    return file_id, size


@dataclass(frozen=True, slots=True)
class StoredFile:
    filename: str
    length: int
    content_type: str
    chunks: AsyncIterator[bytes]


async def open_file(tenant: Tenant, file_id: ObjectId) -> StoredFile | None:
    """The file if it belongs to this account, its chunks read a few at a time."""
    meta = await tenant.files(FILES_BUCKET).find_one({"_id": file_id})
    if meta is None:
        return None

    async def chunks() -> AsyncIterator[bytes]:
        cursor = tenant[f"{FILES_BUCKET}.chunks"].find({"files_id": file_id}, {"data": 1})
        async for chunk in cursor.sort("n", 1).batch_size(4):
            yield bytes(chunk["data"])

    content_type = (meta.get("metadata") or {}).get("contentType", "application/octet-stream")
    return StoredFile(meta["filename"], int(meta["length"]), content_type, chunks())


async def delete_files(tenant: Tenant, file_ids: Sequence[ObjectId]) -> None:
    """Delete the account's files among ``file_ids`` as GridFS does (the file, then its
    chunks, so that no reader finds a file with chunks missing), in two commands."""
    ids = {"$in": list(file_ids)}
    await tenant.files(FILES_BUCKET).delete_many({"_id": ids})
    await tenant[f"{FILES_BUCKET}.chunks"].delete_many({"files_id": ids})


# -- activity reports -------------------------------------------------------------------


async def insert_report(tenant: Tenant, doc: Document) -> None:
    await tenant[ACTIVITY_REPORTS].insert_one(doc)


async def get_report(tenant: Tenant, report_id: ObjectId) -> Document | None:
    return await tenant[ACTIVITY_REPORTS].find_one({"_id": report_id})


async def update_report(tenant: Tenant, report_id: ObjectId, fields: Document) -> None:
    await tenant[ACTIVITY_REPORTS].update_one({"_id": report_id}, {"$set": fields})


async def delete_report(tenant: Tenant, report_id: ObjectId) -> None:
    await tenant[ACTIVITY_REPORTS].delete_one({"_id": report_id})


def report_pages(tenant: Tenant) -> PageSource:
    return tenant[ACTIVITY_REPORTS].pages()


async def jobs_by_node_ids(tenant: Tenant, node_ids: Sequence[str]) -> list[Document | None]:
    return await tenant[JOBS].by_node_ids(node_ids)


async def reports_by_node_ids(tenant: Tenant, node_ids: Sequence[str]) -> list[Document | None]:
    return await tenant[ACTIVITY_REPORTS].by_node_ids(node_ids)
