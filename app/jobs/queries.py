"""Queries of jobs and activity reports: thin resolvers."""

from __future__ import annotations

from functools import partial

import strawberry
from strawberry import relay

from app.auth import ScopeName, requires
from app.connection import Connection
from app.context import Info
from app.graphql_errors import input_errors
from app.inputs import plain
from app.pagination import SortKey, fetch_page

from . import repository
from .inputs import ActivityReportSort, JobWhere, own_id
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
        ctx = info.context
        find = partial(repository.find_page, ctx.tenant)
        count = partial(repository.count, ctx.tenant)
        query = dict(plain(where)) if where else {}
        page, total = await fetch_page(
            find, count, query, SortKey("createdAt", descending=True), first, after
        )
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
        ctx = info.context
        field, direction = sort.value.split(":")
        key = SortKey(field, descending=direction == "desc")
        find = partial(repository.reports_page, ctx.tenant)
        count = partial(repository.reports_count, ctx.tenant)
        page, total = await fetch_page(find, count, {}, key, first, after)
        return Connection.build(page, ActivityReport.from_doc, total)
