"""GraphQL types of jobs and activity reports."""

from __future__ import annotations

from enum import Enum

import strawberry

from app.connection import Connection, DocNode, as_list, doc_field
from app.context import Info
from app.db import Document
from app.scalars import JSON, DateTime

from . import repository
from .loaders import JobByIdLoader


@strawberry.enum(description="Where a job is.")
class JobState(Enum):
    INITIALIZED = "INITIALIZED"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"


@strawberry.enum(description="What a job does.")
class JobKind(Enum):
    CONTACTS_IMPORT = "contacts_import"
    PROFILE_EXPORT = "profile_export"
    ACTIVITY_REPORT = "activity_report"


@strawberry.type(description="Progress counts (Constant Contact's bulk activity status).")
class JobCounts:
    items_total_count: int = strawberry.field(description="Items to process.")
    items_completed_count: int = strawberry.field(description="Items processed.")
    person_count: int = strawberry.field(description="Contacts written.")
    error_count: int = strawberry.field(description="Items that failed.")
    correctable_count: int = strawberry.field(description="Failed items a corrected input would fix.")
    cannot_add_to_list_count: int = strawberry.field(
        description="Contacts not added to a list (an unknown list)."
    )
    list_count: int = strawberry.field(description="Lists contacts were added to.")


def _base_url(info: Info) -> str:
    return str(info.context.request.base_url).rstrip("/")


@strawberry.type(
    description="Asynchronous work: an import, a profile export or an activity report. Kept 10 days."
)
class Job(DocNode):
    doc: strawberry.Private[Document]
    lookup = repository.jobs_by_node_ids

    @strawberry.field(description="Import, profile export or activity report.")
    def kind(self) -> JobKind:
        return JobKind(self.doc["kind"])

    @strawberry.field(description="Where the job stands.")
    def state(self) -> JobState:
        return JobState(self.doc["state"])

    @strawberry.field(description="0-100.")
    def percent_done(self) -> int:
        return int(self.doc.get("percentDone", 0))

    @strawberry.field(description="Items, persons, errors and lists (Constant Contact's counts).")
    def counts(self) -> JobCounts:
        c = self.doc.get("counts") or {}
        return JobCounts(
            items_total_count=c.get("itemsTotalCount", 0),
            items_completed_count=c.get("itemsCompletedCount", 0),
            person_count=c.get("personCount", 0),
            error_count=c.get("errorCount", 0),
            correctable_count=c.get("correctableCount", 0),
            cannot_add_to_list_count=c.get("cannotAddToListCount", 0),
            list_count=c.get("listCount", 0),
        )

    errors = doc_field(
        "errors",
        list[str],
        description="Messages describing error conditions (the first 100).",
        convert=as_list,
    )

    source_file_name = doc_field(
        "sourceFileName", str | None, description="The import's file name, when given."
    )

    created_at = doc_field("createdAt", DateTime, description="When it was created.", required=True)

    started_at = doc_field("startedAt", DateTime | None, description="When a worker started it.")

    completed_at = doc_field("completedAt", DateTime | None, description="When it finished.")

    updated_at = doc_field("updatedAt", DateTime, description="Its last progress.", required=True)

    @strawberry.field(description="What the job produced (counts, ids).")
    def result(self) -> JSON:
        return JSON({k: v for k, v in (self.doc.get("result") or {}).items() if k != "fileId"})

    @strawberry.field(
        description="Where to download the result (authenticated, kept 10 days), once completed; "
        "null for an export uploaded to an FTP/SFTP destination (result.destination says where)."
    )
    def result_url(self, info: Info) -> str | None:
        if self.doc["state"] != "COMPLETED":
            return None
        if self.doc["kind"] == "profile_export":  # not when it was uploaded to a destination
            has_file = "fileId" in (self.doc.get("result") or {})
            return f"{_base_url(info)}/downloads/jobs/{self.doc['_id']}" if has_file else None
        if self.doc["kind"] == "activity_report":
            return f"{_base_url(info)}/downloads/reports/{self.doc['input']['reportId']}/aggregated.csv"
        return None


JobConnection = Connection[Job]


@strawberry.enum(description="An activity report's status: PENDING (1), then COMPLETED (2) or FAILED.")
class ReportStatus(Enum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


@strawberry.type(description="An asynchronous contact activity report with aggregated and detailed CSVs.")
class ActivityReport(DocNode):
    doc: strawberry.Private[Document]
    lookup = repository.reports_by_node_ids

    title = doc_field(
        "title", str, description="The report's title (1-200 characters).", required=True, convert=str
    )

    favorite = doc_field("favorite", bool, description="Marked as a favourite.", convert=bool)

    @strawberry.field(description="PENDING until its job completes, then COMPLETED or FAILED.")
    def status(self) -> ReportStatus:
        return ReportStatus(self.doc["status"])

    @strawberry.field(description="The reference's numeric status: 1 = Pending, 2 = Completed.")
    def status_code(self) -> int | None:
        return {"PENDING": 1, "COMPLETED": 2}.get(self.doc["status"])

    failure_reason = doc_field(
        "failureReason", str | None, description="Why it FAILED, in words a person can act on."
    )

    @strawberry.field(description="The criteria, user type and dates it was created with.")
    def filters(self) -> JSON:
        return JSON(self.doc.get("filters") or {})

    selected_fields = doc_field(
        "selectedFields", list[str], description="The aggregated CSV's columns, in order.", convert=as_list
    )

    include_behavior = doc_field(
        "includeBehavior", bool, description="The detailed CSV includes custom events.", convert=bool
    )

    row_count = doc_field(
        "rowCount", int | None, description="Rows of the aggregated CSV (contacts), once completed."
    )

    detailed_row_count = doc_field(
        "detailedRowCount", int | None, description="Rows of the detailed CSV (activities), once completed."
    )

    created_at = doc_field("createdAt", DateTime, description="When it was created.", required=True)

    completed_at = doc_field("completedAt", DateTime | None, description="When its job completed.")

    @strawberry.field(description="One row per contact (authenticated download), once completed.")
    def aggregated_csv_url(self, info: Info) -> str | None:
        return self._url(info, "aggregated")

    @strawberry.field(description="One row per activity (authenticated download), once completed.")
    def detailed_csv_url(self, info: Info) -> str | None:
        return self._url(info, "detailed")

    def _url(self, info: Info, which: str) -> str | None:
        if self.doc["status"] != "COMPLETED":
            return None
        return f"{_base_url(info)}/downloads/reports/{self.doc['_id']}/{which}.csv"

    @strawberry.field(description="The job computing it.")
    async def job(self, info: Info) -> Job | None:
        job_id = self.doc.get("jobId")
        doc = await info.context.loaders.of(JobByIdLoader).load(job_id) if job_id else None
        return Job.from_doc(doc) if doc else None


ActivityReportConnection = Connection[ActivityReport]
