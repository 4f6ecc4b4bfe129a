"""Mutations of jobs and activity reports (imports, profile exports, reports, cancel): thin
resolvers over the use cases in imports, exports and reports."""

from __future__ import annotations

import strawberry
from strawberry import relay

from app.auth import ScopeName, ensure_allowed, requires
from app.context import Info
from app.errors import ErrorCode
from app.graphql_errors import Payload, UserError, user_errors_in
from app.inputs import plain

from . import exports, imports, reports, repository
from .exports import create_profile_export
from .imports import ImportRequest, create_import
from .inputs import ActivityReportCreateInput, ContactsImportInput, ExportDestinationInput, own_id
from .reports import ReportRequest, create_report, delete_report
from .types import ActivityReport, Job

READ = [requires(ScopeName.CONTACTS_READ)]
WRITE = [requires(ScopeName.CONTACTS_WRITE)]
REPORTS = [requires(ScopeName.REPORTS)]
# Cancelling a job takes the scope that creates its kind: a read-only key cannot stop imports.
CANCEL_SCOPES = {
    imports.KIND: ScopeName.CONTACTS_WRITE,
    reports.KIND: ScopeName.REPORTS,
    exports.KIND: ScopeName.CONTACTS_READ,
}


@strawberry.type(description="The result of a job mutation: the job.")
class JobPayload(Payload):
    job: Job | None = strawberry.field(default=None, description="The job; null on failure.")


@strawberry.type(description="The result of activityReportCreate: the report and its job.")
class ActivityReportPayload(Payload):
    activity_report: ActivityReport | None = strawberry.field(
        default=None, description="The report, PENDING; null on failure."
    )
    job: Job | None = strawberry.field(default=None, description="The job that computes it.")


@strawberry.type(description="The result of activityReportDelete.")
class ActivityReportDeletePayload(Payload):
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="The id of the report deleted; null on failure."
    )


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
        return JobPayload(job=Job.from_doc(await create_import(ctx.tenant, request)))

    @strawberry.mutation(
        description="Export a contact's whole profile (with every activity) as a JSON file: downloadable "
        "from the job, or uploaded to an FTP/SFTP destination.",
        permission_classes=READ,
    )
    @user_errors_in(JobPayload)
    async def contact_profile_export(
        self, info: Info, ref: str, destination: ExportDestinationInput | None = None
    ) -> JobPayload:
        ctx = info.context
        job = await create_profile_export(
            ctx.tenant,
            await ctx.identifier_keys(),
            ref,
            destination.to_data() if destination else None,
            ctx.services.secrets,
        )
        return JobPayload(job=Job.from_doc(job))

    @strawberry.mutation(
        description="Cancel a job that has not finished. Needs the scope that creates its kind: "
        "contacts:write for imports, reports for activity reports, contacts:read for profile exports.",
        permission_classes=READ,
    )
    async def job_cancel(self, info: Info, id: relay.GlobalID) -> JobPayload:
        ctx = info.context
        job_id = own_id(id, "Job")
        job = await repository.get(ctx.tenant, job_id) if job_id else None
        if job is not None:
            ensure_allowed(ctx.principal, CANCEL_SCOPES.get(job["kind"], ScopeName.ADMIN))
        doc = await repository.request_cancel(ctx.tenant, job["_id"]) if job else None
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
            combined_as_and=input.combined_as_and,
        )
        report, job = await create_report(ctx.tenant, request)
        return ActivityReportPayload(activity_report=ActivityReport.from_doc(report), job=Job.from_doc(job))

    @strawberry.mutation(description="Delete an activity report and its files.", permission_classes=REPORTS)
    async def activity_report_delete(self, info: Info, id: relay.GlobalID) -> ActivityReportDeletePayload:
        ctx = info.context
        report_id = own_id(id, "ActivityReport")
        if report_id is None or not await delete_report(ctx.tenant, report_id):
            error = UserError(
                field=["id"], message="Activity report not found", code=ErrorCode.ACTIVITY_REPORT_NOT_FOUND
            )
            return ActivityReportDeletePayload(user_errors=[error])
        return ActivityReportDeletePayload(deleted_id=strawberry.ID(str(id)))
