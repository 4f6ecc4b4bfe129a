"""Queries, mutations and the subscription of jobs and activity reports: thin resolvers."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from enum import Enum
from functools import partial

import strawberry
from bson import ObjectId
from strawberry import relay

from app.auth import ScopeName, ensure_allowed, requires
from app.connection import Connection
from app.contacts.inputs import ContactInput
from app.context import Info
from app.db import object_id
from app.errors import DomainError, ErrorCode
from app.graphql_errors import InputError, UserError, input_errors, user_errors_in
from app.inputs import plain
from app.pagination import SortKey, fetch_page
from app.scalars import JSON, DateTime

from . import exports, imports, reports, repository
from .exports import create_profile_export
from .imports import ImportRequest, create_import
from .reports import ReportRequest, create_report, delete_report, get_report
from .types import ActivityReport, ActivityReportConnection, Job, JobConnection, JobKind, JobState

READ = [requires(ScopeName.CONTACTS_READ)]
WRITE = [requires(ScopeName.CONTACTS_WRITE)]
REPORTS = [requires(ScopeName.REPORTS)]
# Cancelling a job takes the scope that creates its kind: a read-only key cannot stop imports.
CANCEL_SCOPES = {
    imports.KIND: ScopeName.CONTACTS_WRITE,
    reports.KIND: ScopeName.REPORTS,
    exports.KIND: ScopeName.CONTACTS_READ,
}


def _own_id(global_id: relay.GlobalID, type_name: str, argument: str = "id") -> ObjectId | None:
    if global_id.type_name != type_name:
        raise InputError(
            ErrorCode.VALIDATION_ERROR, f"'{argument}' is not the id of a {type_name}", (argument,)
        )
    return object_id(global_id.node_id)


@strawberry.input
class JobWhere:
    kind: JobKind | None = None
    state: JobState | None = None


@strawberry.enum
class ImportErrorPolicy(Enum):
    SKIP_FAILED_ROWS = "SKIP_FAILED_ROWS"
    REJECT_ALL = "REJECT_ALL"


@strawberry.input(
    description="Contacts to import: inline (`contacts`) or as CSV text with a header row (`csv`)."
)
class ContactsImportInput:
    contacts: list[ContactInput] | None = None
    csv: str | None = strawberry.field(
        default=None,
        description="Columns: email, sms, subscribeStatus, lists (keys separated by ';') and attribute keys "
        "('location.city' for geo sub-fields, ';' between array items).",
    )
    source_file_name: str | None = None
    lists: list[str] = strawberry.field(
        default_factory=list, description="Add every imported contact to these."
    )
    error_policy: ImportErrorPolicy = ImportErrorPolicy.SKIP_FAILED_ROWS


@strawberry.input(
    description="One report criterion (Ongage): operands are ORed; `condition` joins it to the previous."
)
class ReportCriterionInput:
    field_name: str | None = None
    type: str = strawberry.field(description="string, numeric, email, date, id, list or behavioral")
    operator: str = strawberry.field(
        description="=, !=, LIKE, NOT LIKE, LIKE_, _LIKE, empty, notempty, <, <=, >, >=, ><"
    )
    operand: JSON | None = strawberry.field(
        default=None, description="A list of values (behavioral: message ids)."
    )
    case_sensitive: bool = False
    condition: str = "and"


@strawberry.input
class ReportFiltersInput:
    criteria: list[ReportCriterionInput] = strawberry.field(default_factory=list)
    user_type: str = strawberry.field(default="all", description="all, active, unsubscribed or bounced")
    from_date: DateTime | None = None
    to_date: DateTime | None = None


@strawberry.input
class ActivityReportCreateInput:
    title: str
    favorite: bool = False
    filters: ReportFiltersInput
    selected_fields: list[str]
    include_behavior: bool = strawberry.field(default=False, description="Detailed CSV: custom events too.")


@strawberry.type
class JobPayload:
    job: Job | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ActivityReportPayload:
    activity_report: ActivityReport | None = None
    job: Job | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ActivityReportDeletePayload:
    deleted_id: strawberry.ID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.enum
class ActivityReportSort(Enum):
    CREATED_AT_DESC = "createdAt:desc"
    CREATED_AT_ASC = "createdAt:asc"
    TITLE_ASC = "title:asc"
    TITLE_DESC = "title:desc"


@strawberry.type
class JobQueries:
    @strawberry.field(description="One job of the caller's account (kept 10 days).", permission_classes=READ)
    async def job(self, info: Info, id: relay.GlobalID) -> Job | None:
        job_id = _own_id(id, "Job")
        doc = await repository.get(info.context.account_id, info.context.db, job_id) if job_id else None
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
        find = partial(repository.find_page, ctx.account_id, ctx.db)
        count = partial(repository.count, ctx.account_id, ctx.db)
        query = dict(plain(where)) if where else {}
        page, total = await fetch_page(
            find, count, query, SortKey("createdAt", descending=True), first, after
        )
        return Connection.build(page, Job.from_doc, total)

    @strawberry.field(permission_classes=REPORTS)
    async def activity_report(self, info: Info, id: relay.GlobalID) -> ActivityReport | None:
        report_id = _own_id(id, "ActivityReport")
        doc = await get_report(info.context.account_id, info.context.db, report_id) if report_id else None
        return ActivityReport.from_doc(doc) if doc else None

    @strawberry.field(permission_classes=REPORTS)
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
        find = partial(repository.reports_page, ctx.account_id, ctx.db)
        count = partial(repository.reports_count, ctx.account_id, ctx.db)
        page, total = await fetch_page(find, count, {}, key, first, after)
        return Connection.build(page, ActivityReport.from_doc, total)


@strawberry.type
class JobMutations:
    @strawberry.mutation(
        description="Import contacts as a job (progress in job.counts).", permission_classes=WRITE
    )
    @user_errors_in(JobPayload)
    async def contacts_import(self, info: Info, input: ContactsImportInput) -> JobPayload:
        ctx = info.context
        request = ImportRequest(
            rows=[plain(c) for c in input.contacts] if input.contacts is not None else None,
            csv_text=input.csv,
            source_file_name=input.source_file_name,
            lists=list(input.lists),
            error_policy=input.error_policy.value,
        )
        return JobPayload(job=Job.from_doc(await create_import(ctx.account_id, ctx.db, request)))

    @strawberry.mutation(
        description="Export a contact's whole profile (with every activity) as a JSON file.",
        permission_classes=READ,
    )
    @user_errors_in(JobPayload)
    async def contact_profile_export(self, info: Info, ref: str) -> JobPayload:
        ctx = info.context
        job = await create_profile_export(ctx.account_id, ctx.db, await ctx.identifier_keys(), ref)
        return JobPayload(job=Job.from_doc(job))

    @strawberry.mutation(
        description="Cancel a job that has not finished. Needs the scope that creates its kind: "
        "contacts:write for imports, reports for activity reports, contacts:read for profile exports.",
        permission_classes=READ,
    )
    async def job_cancel(self, info: Info, id: relay.GlobalID) -> JobPayload:
        ctx = info.context
        job_id = _own_id(id, "Job")
        job = await repository.get(ctx.account_id, ctx.db, job_id) if job_id else None
        if job is not None:
            ensure_allowed(ctx.principal, CANCEL_SCOPES.get(job["kind"], ScopeName.ADMIN))
        doc = await repository.request_cancel(ctx.account_id, ctx.db, job["_id"]) if job else None
        if doc is None:
            return JobPayload(
                user_errors=[UserError(field=["id"], message="Job not found", code=ErrorCode.JOB_NOT_FOUND)]
            )
        return JobPayload(job=Job.from_doc(doc))

    @strawberry.mutation(
        description="Create an activity report (PENDING until its job completes).", permission_classes=REPORTS
    )
    @user_errors_in(ActivityReportPayload)
    async def activity_report_create(
        self, info: Info, input: ActivityReportCreateInput
    ) -> ActivityReportPayload:
        ctx = info.context
        filters = input.filters
        request = ReportRequest(
            title=input.title,
            favorite=input.favorite,
            criteria=[plain(c) for c in filters.criteria],
            user_type=filters.user_type,
            from_date=filters.from_date,
            to_date=filters.to_date,
            selected_fields=list(input.selected_fields),
            include_behavior=input.include_behavior,
        )
        report, job = await create_report(ctx.account_id, ctx.db, request)
        return ActivityReportPayload(activity_report=ActivityReport.from_doc(report), job=Job.from_doc(job))

    @strawberry.mutation(description="Delete an activity report and its files.", permission_classes=REPORTS)
    async def activity_report_delete(self, info: Info, id: relay.GlobalID) -> ActivityReportDeletePayload:
        ctx = info.context
        report_id = _own_id(id, "ActivityReport")
        if report_id is None or not await delete_report(ctx.account_id, ctx.db, report_id):
            error = UserError(
                field=["id"], message="Activity report not found", code=ErrorCode.ACTIVITY_REPORT_NOT_FOUND
            )
            return ActivityReportDeletePayload(user_errors=[error])
        return ActivityReportDeletePayload(deleted_id=strawberry.ID(str(id)))


@strawberry.type
class JobSubscriptions:
    @strawberry.subscription(description="The job as it changes, until it finishes.", permission_classes=READ)
    async def job_updated(self, info: Info, id: relay.GlobalID) -> AsyncGenerator[Job, None]:
        ctx = info.context
        job_id = _own_id(id, "Job")
        current = await repository.get(ctx.account_id, ctx.db, job_id) if job_id else None
        if current is None or job_id is None:
            raise InputError.from_domain(DomainError.one(ErrorCode.JOB_NOT_FOUND, "Job not found", ("id",)))
        yield Job.from_doc(current)
        if current["state"] in repository.TERMINAL:
            return
        async for doc in repository.watch_job(ctx.account_id, ctx.db, job_id):
            yield Job.from_doc(doc)
            if doc["state"] in repository.TERMINAL:
                return
