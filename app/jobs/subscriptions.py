"""The job subscription: a job as it changes, until it finishes."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry import relay

from app.auth import ScopeName, requires
from app.context import Info
from app.errors import DomainError, ErrorCode
from app.graphql_errors import InputError

from . import repository
from .inputs import own_id
from .types import Job

READ = [requires(ScopeName.CONTACTS_READ)]


@strawberry.type
class JobSubscriptions:
    @strawberry.subscription(description="The job as it changes, until it finishes.", permission_classes=READ)
    async def job_updated(self, info: Info, id: relay.GlobalID) -> AsyncGenerator[Job, None]:
        ctx = info.context
        job_id = own_id(id, "Job")
        not_found = InputError.from_domain(DomainError.one(ErrorCode.JOB_NOT_FOUND, "Job not found", ("id",)))
        if job_id is None:
            raise not_found
        async for doc in repository.watch_job(ctx.tenant, job_id):  # the job now, then as it changes
            if doc is None:
                raise not_found
            yield Job.from_doc(doc)
            if doc["state"] in repository.TERMINAL:
                return
