"""Queries of jobs and activity reports: thin resolvers."""

from __future__ import annotations

import strawberry
from strawberry import relay

from app.auth import ScopeName, requires
from app.connection import Connection
from app.context import Info
from app.graphql_errors import input_errors
from app.pagination import SortKey

from . import repository
from .inputs import ActivityReportSort, JobWhere, own_id
from .listing import list_jobs, list_reports
from .reports import get_report
from .types import ActivityReport, ActivityReportConnection, Job, JobConnection

READ = [requires(ScopeName.CONTACTS_READ)]
REPORTS = [requires(ScopeName.REPORTS)]


@strawberry.type
class JobQueries:
    @strawberry.field(description="One job of the caller's account (kept 10 days).", permission_classes=READ)
    async def job(self, info: Info, id: relay.GlobalID) -> Job | None:
        job_id = own_id(id, "Job")
        doc = await repository.get(info.context.tenant, job_id) if job_id else None
        return Job.from_doc(doc) if doc else None

    @strawberry.field(
        description="The account's jobs of the last 10 days, newest first.", permission_classes=READ
    )
    @input_errors
    async def jobs(
        self,
        info: Info,
        where: JobWhere | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> JobConnection:
        page, total = await list_jobs(info.context.tenant, where.to_filter() if where else None, first, after)
        return Connection.build(page, Job.from_doc, total)

    @strawberry.field(description="One activity report of the caller's account.", permission_classes=REPORTS)
    async def activity_report(self, info: Info, id: relay.GlobalID) -> ActivityReport | None:
        report_id = own_id(id, "ActivityReport")
        doc = await get_report(info.context.tenant, report_id) if report_id else None
        return ActivityReport.from_doc(doc) if doc else None

    @strawberry.field(
        description="The account's activity reports, sorted and paged.", permission_classes=REPORTS
    )
    @input_errors
    async def activity_reports(
        self,
        info: Info,
        sort: ActivityReportSort = ActivityReportSort.CREATED_AT_DESC,
        first: int | None = None,
        after: str | None = None,
    ) -> ActivityReportConnection:
        field, direction = sort.value.split(":")
        key = SortKey(field, descending=direction == "desc")
        page, total = await list_reports(info.context.tenant, key, first, after)
        return Connection.build(page, ActivityReport.from_doc, total)
