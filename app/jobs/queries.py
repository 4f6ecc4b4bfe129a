"""Queries of jobs and activity reports: thin resolvers."""

from __future__ import annotations

from typing import TypeVar, cast

import strawberry
from strawberry import relay

from app.auth import ScopeName, requires
from app.connection import Connection, DocNode
from app.context import Info
from app.graphql_errors import input_errors
from app.pagination import SortKey

from .inputs import ActivityReportSort, JobWhere, own_id
from .listing import list_jobs, list_reports
from .types import ActivityReport, ActivityReportConnection, Job, JobConnection

N = TypeVar("N", bound=DocNode)
READ = [requires(ScopeName.CONTACTS_READ)]
REPORTS = [requires(ScopeName.REPORTS)]


async def _by_id(node_type: type[N], info: Info, id: relay.GlobalID) -> N | None:
    """The caller's node of this Relay id (None when malformed or unknown); an id of
    another type is a VALIDATION_ERROR."""
    own = own_id(id, node_type.__name__)
    found = (await node_type.resolve_nodes(info=info, node_ids=[str(own)]))[0] if own else None
    return cast(N | None, found)


@strawberry.type
class JobQueries:
    @strawberry.field(description="One job of the caller's account (kept 10 days).", permission_classes=READ)
    async def job(self, info: Info, id: relay.GlobalID) -> Job | None:
        return await _by_id(Job, info, id)

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
        return await _by_id(ActivityReport, info, id)

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
