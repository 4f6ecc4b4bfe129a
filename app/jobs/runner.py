"""Running jobs: any number of workers (``contactgraph worker`` processes and the runner
``serve`` starts) share the queue. A job is claimed with a lease (findOneAndUpdate); the
worker renews the lease with every progress write; a job whose worker died is claimed
again once its lease runs out, and marked TIMED_OUT after MAX_ATTEMPTS claims. A worker
told to stop hands its job back at the next progress write (lease released, progress and
checkpoint kept, the claim not counted), so another worker goes on with it at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from app import process_wide
from app.db import Database, Document
from app.secrets_box import SecretsBox
from app.tenant import Tenant

from . import repository

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
MAX_ERRORS_KEPT = 100


class JobCancelled(Exception):
    """Raised inside a handler when the job was cancelled meanwhile."""


class LeaseLost(Exception):
    """Raised inside a handler when another worker took the job over."""


class JobFailed(Exception):
    """A handler's expected failure: the job ends FAILED with this message."""


class WorkerStopping(Exception):
    """Raised inside a handler when its worker is stopping: the job is handed back."""


@dataclass
class JobContext:
    """What a handler gets: the job, the database and a way to report progress."""

    job: Document
    db: Database
    owner: str
    lease: timedelta
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    secrets: SecretsBox | None = None  # opens credentials sealed into the job (uploads)

    @property
    def account_id(self) -> str:
        return str(self.job["accountId"])

    @property
    def tenant(self) -> Tenant:
        """The job's account: everything a job reads or writes goes through it."""
        return Tenant(self.account_id, self.db)

    def error(self, message: str) -> None:
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(message)

    async def progress(self, done: int, total: int, **extra: Any) -> None:
        """Write progress (and renew the lease); stops the handler if the job was cancelled or
        taken over, or its worker is stopping. ``extra`` fields are stored on the job (e.g. a
        checkpoint to go on from)."""
        percent = 100 if total <= 0 else min(99, int(done * 100 / total))
        fields = {"percentDone": percent, "counts": dict(self.counts), "errors": list(self.errors), **extra}
        job = await repository.heartbeat(self.tenant, self.job["_id"], self.owner, self.lease, fields)
        if job is None:
            raise LeaseLost(str(self.job["_id"]))
        if job.get("cancelRequested"):
            raise JobCancelled(str(self.job["_id"]))
        self.job = job
        if self.stopping.is_set():
            raise WorkerStopping(str(self.job["_id"]))


Handler = Callable[[JobContext], Awaitable[Document]]


class JobRunner:
    def __init__(
        self,
        db: Database,
        handlers: dict[str, Handler],
        *,
        lease: timedelta = timedelta(seconds=30),
        poll_interval: float = 0.5,
        owner: str | None = None,
        secrets: SecretsBox | None = None,
    ) -> None:
        self.db = db
        self.handlers = handlers
        self.lease = lease
        self.poll_interval = poll_interval
        self.secrets = secrets
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stopping = asyncio.Event()

    async def run_once(self) -> Document | None:
        """Claim and run one job; returns it (as claimed), or None when the queue is empty."""
        job = await process_wide.claim_next_job(self.db, self.owner, self.lease)
        if job is None:
            return None
        tenant = Tenant(str(job["accountId"]), self.db)
        if job["attempts"] > MAX_ATTEMPTS:
            await repository.finish(
                tenant,
                job["_id"],
                self.owner,
                {
                    "state": "TIMED_OUT",
                    "errors": [
                        *job.get("errors", []),
                        f"Gave up after {MAX_ATTEMPTS} attempts: its workers stopped",
                    ],
                },
            )
            return job
        handler = self.handlers.get(job["kind"])
        ctx = JobContext(
            job=job,
            db=self.db,
            owner=self.owner,
            lease=self.lease,
            counts=dict(job.get("counts") or {}),
            errors=list(job.get("errors") or []),
            stopping=self._stopping,
            secrets=self.secrets,
        )
        try:
            if handler is None:
                raise JobFailed(f"No handler for jobs of kind {job['kind']!r}")
            await repository.heartbeat(
                tenant,
                job["_id"],
                self.owner,
                self.lease,
                {"startedAt": job.get("startedAt") or job["updatedAt"]},
            )
            result = await handler(ctx)
        except JobCancelled:
            await repository.finish(tenant, job["_id"], self.owner, _final(ctx, "CANCELLED"))
        except LeaseLost:
            log.warning("lost the lease of job %s", job["_id"])
        except WorkerStopping:
            await repository.release(tenant, job["_id"], self.owner)
            log.info("handed job %s back: this worker is stopping", job["_id"])
        except JobFailed as exc:
            ctx.error(str(exc))
            await repository.finish(tenant, job["_id"], self.owner, _final(ctx, "FAILED"))
        except Exception:
            log.exception("job %s failed", job["_id"])
            ctx.error("Internal error while processing the job")
            await repository.finish(tenant, job["_id"], self.owner, _final(ctx, "FAILED"))
        else:
            await repository.finish(
                tenant,
                job["_id"],
                self.owner,
                {**_final(ctx, "COMPLETED"), "percentDone": 100, "result": result},
            )
        return job

    async def run_forever(self) -> None:
        purge_every = 3600.0
        next_purge = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            try:
                if loop.time() >= next_purge:
                    await process_wide.purge_expired_files(self.db)
                    next_purge = loop.time() + purge_every
                if await self.run_once() is not None:
                    continue
            except Exception:  # a database hiccup: wait and go on
                log.exception("job runner error")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.poll_interval)

    def stop(self) -> None:
        self._stopping.set()


def _final(ctx: JobContext, state: str) -> Document:
    return {"state": state, "counts": dict(ctx.counts), "errors": list(ctx.errors)}
