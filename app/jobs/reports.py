"""Activity reports (Ongage contact_activity): created PENDING, computed by a job with
MongoDB aggregation, COMPLETED with two CSVs streamed into result files:

* aggregated: one row per matching contact with the selected fields;
* detailed: one row per activity of those contacts in the date window (message
  activities; with ``includeBehavior`` custom events too).

Aggregation fields: sent, opens, clicks (counts), last_sent_date, last_open_date,
last_click_date, and avg_open_time / avg_click_time (mean seconds from a send to the first
open / click of the same mcID).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from bson import ObjectId

from app.account.config import load_account_config
from app.activities import repository as activities
from app.contacts import repository as contacts
from app.contacts.activity_conditions import lookup_stages
from app.db import Database, Document, scoped
from app.errors import DomainError, ErrorCode, Problem
from app.scalars import format_datetime, parse_datetime, to_json_value

from . import repository
from .report_criteria import SYSTEM_FIELDS, USER_TYPES, compile_criteria
from .runner import JobContext, JobFailed

KIND = "activity_report"
AGGREGATION_FIELDS = (
    "sent",
    "opens",
    "clicks",
    "last_sent_date",
    "last_open_date",
    "last_click_date",
    "avg_open_time",
    "avg_click_time",
)
EXTRA_SYSTEM_FIELDS = ("ocx_bounce_date", "ocx_complaint_date", "ocx_import_id")
MESSAGE_ACTIONS = ["message-sent", "open", "click", "bounce", "complaint", "optout"]
DETAILED_COLUMNS = ["contact_id", "email", "action", "ats", "mcID", "message_id", "channel", "properties"]
FLUSH_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class ReportRequest:
    title: str
    favorite: bool
    criteria: list[dict[str, Any]]
    user_type: str
    from_date: datetime | None
    to_date: datetime | None
    selected_fields: list[str]
    include_behavior: bool


def _window(filters: Document) -> Document | None:
    window: Document = {}
    if filters.get("fromDate") is not None:
        window["$gte"] = filters["fromDate"]
    if filters.get("toDate") is not None:
        window["$lte"] = filters["toDate"]
    return window or None


async def create_report(account_id: str, db: Database, request: ReportRequest) -> tuple[Document, Document]:
    """Validate the report, store it PENDING and queue its job; returns (report, job)."""
    config = await load_account_config(account_id, db)
    problems: list[Problem] = []
    if not 1 <= len(request.title.strip()) <= 200:
        problems.append(
            Problem(ErrorCode.VALIDATION_ERROR, "title must be 1-200 characters", ("input", "title"))
        )
    if request.user_type not in USER_TYPES:
        problems.append(
            Problem(
                ErrorCode.VALIDATION_ERROR,
                f"userType must be one of {', '.join(USER_TYPES)}",
                ("input", "filters", "userType"),
            )
        )
    if not request.selected_fields:
        problems.append(
            Problem(ErrorCode.VALIDATION_ERROR, "Select at least one field", ("input", "selectedFields"))
        )
    for i, name in enumerate(request.selected_fields):
        known = name in SYSTEM_FIELDS or name in AGGREGATION_FIELDS or name in EXTRA_SYSTEM_FIELDS
        if not known and name not in config.definitions:
            problems.append(
                Problem(
                    ErrorCode.VALIDATION_ERROR, f"Unknown field {name!r}", ("input", "selectedFields", str(i))
                )
            )
    if request.from_date and request.to_date and request.from_date > request.to_date:
        problems.append(
            Problem(ErrorCode.VALIDATION_ERROR, "fromDate is after toDate", ("input", "filters", "fromDate"))
        )
    filters = {
        "criteria": request.criteria,
        "userType": request.user_type,
        "fromDate": request.from_date,
        "toDate": request.to_date,
    }
    try:
        compile_criteria(request.criteria, config.definitions, config.lists, _window(filters))
    except DomainError as exc:
        problems.extend(exc.problems)
    if problems:
        raise DomainError(problems)
    now = datetime.now(UTC)
    report: Document = scoped(
        account_id,
        {
            "_id": ObjectId(),
            "title": request.title.strip(),
            "favorite": request.favorite,
            "status": "PENDING",
            "filters": filters,
            "selectedFields": request.selected_fields,
            "includeBehavior": request.include_behavior,
            "rowCount": None,
            "detailedRowCount": None,
            "createdAt": now,
            "completedAt": None,
            "files": {},
        },
    )
    job = await repository.insert(account_id, db, KIND, {"reportId": report["_id"]}, None)
    report["jobId"] = job["_id"]
    await repository.insert_report(account_id, db, report)
    return report, job


async def get_report(account_id: str, db: Database, report_id: ObjectId) -> Document | None:
    return await repository.get_report(account_id, db, report_id)


async def delete_report(account_id: str, db: Database, report_id: ObjectId) -> bool:
    report = await get_report(account_id, db, report_id)
    if report is None:
        return False
    await repository.delete_report(account_id, db, report_id)
    await repository.delete_files(account_id, db, list((report.get("files") or {}).values()))
    if report.get("jobId"):
        await repository.request_cancel(account_id, db, report["jobId"])
    return True


# -- computing it: two sorted streams from MongoDB, zipped by cID --------------------------


async def _selected_contacts(
    account_id: str, db: Database, report: Document, projection: Document | None = None
) -> AsyncIterator[Document]:
    """The contacts the report's criteria select, ascending cID."""
    config = await load_account_config(account_id, db)
    filters = report["filters"]
    query, behaviors = compile_criteria(
        filters.get("criteria") or [], config.definitions, config.lists, _window(filters)
    )
    clauses = [c for c in (query, USER_TYPES[filters.get("userType") or "all"]) if c]
    stages = lookup_stages(account_id, behaviors)
    match = {"$and": clauses} if clauses else {}
    async for contact in contacts.stream_matching(account_id, db, match, stages, projection):
        yield contact


async def merge_by_cid(
    selected: AsyncIterator[Document], others: AsyncIterator[Document], *, key: str
) -> AsyncIterator[tuple[Document, list[Document]]]:
    """Each contact with the documents of ``others`` whose ``key`` is its cID. Both streams
    ascend by cID, so memory holds one contact's documents at a time."""
    pending = await anext(others, None)
    async for contact in selected:
        cid = contact["_id"]
        while pending is not None and pending[key] < cid:
            pending = await anext(others, None)
        matched: list[Document] = []
        while pending is not None and pending[key] == cid:
            matched.append(pending)
            pending = await anext(others, None)
        yield contact, matched


async def _nothing() -> AsyncIterator[Document]:
    empty: list[Document] = []
    for item in empty:
        yield item


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, dict | list):
        return orjson.dumps(to_json_value(value)).decode()
    return str(value)


def _value(contact: Document, stats: Document, name: str) -> Any:
    if name in AGGREGATION_FIELDS or name in ("ocx_bounce_date", "ocx_complaint_date"):
        default = 0 if name in ("sent", "opens", "clicks") else None
        return stats.get(name, default)
    if name == "ocx_import_id":
        return None
    if name in SYSTEM_FIELDS:
        value: Any = contact
        for part in SYSTEM_FIELDS[name][0].split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value
    return (contact.get("attributes") or {}).get(name)


async def _csv_chunks(
    header: list[str], rows: AsyncIterator[list[Any]], counter: list[int]
) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    async for row in rows:
        writer.writerow([_cell(v) for v in row])
        counter[0] += 1
        if buffer.tell() >= FLUSH_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


async def _aggregated_rows(account_id: str, db: Database, report: Document) -> AsyncIterator[list[Any]]:
    fields = report["selectedFields"]
    wanted = set(AGGREGATION_FIELDS) | {"ocx_bounce_date", "ocx_complaint_date"}
    window = _window(report["filters"])
    stats = (
        activities.message_stats_by_contact(account_id, db, MESSAGE_ACTIONS, window)
        if wanted & set(fields)
        else _nothing()
    )
    async for contact, found in merge_by_cid(_selected_contacts(account_id, db, report), stats, key="_id"):
        yield [_value(contact, found[0] if found else {}, f) for f in fields]


async def _detailed_rows(account_id: str, db: Database, report: Document) -> AsyncIterator[list[Any]]:
    query: Document = {}
    if not report.get("includeBehavior"):
        query["action"] = {"$in": MESSAGE_ACTIONS}
    window = _window(report["filters"])
    if window:
        query["ats"] = window
    selected = _selected_contacts(account_id, db, report, {"channels.email.address": 1})
    events = activities.stream_by_contact(account_id, db, query)
    async for contact, found in merge_by_cid(selected, events, key="cID"):
        email = ((contact.get("channels") or {}).get("email") or {}).get("address")
        for a in found:
            yield [
                contact["_id"], email, a.get("action"), a.get("ats"), a.get("mcID"), a.get("messageId"),
                a.get("channel"), a.get("properties") or {},
            ]  # fmt: skip


async def run_report(ctx: JobContext) -> Document:
    account_id, db = ctx.account_id, ctx.db
    report_id = ctx.job["input"]["reportId"]
    report = await get_report(account_id, db, report_id)
    if report is None:
        raise JobFailed("The report was deleted")
    rows, detailed = [0], [0]
    try:
        report["filters"]["fromDate"] = _as_datetime(report["filters"].get("fromDate"))
        report["filters"]["toDate"] = _as_datetime(report["filters"].get("toDate"))
        ctx.counts.update(itemsTotalCount=2, itemsCompletedCount=0)
        aggregated = _csv_chunks(report["selectedFields"], _aggregated_rows(account_id, db, report), rows)
        aggregated_id, _ = await repository.store_file(
            account_id, db, f"report-{report_id}-aggregated.csv", "text/csv", aggregated
        )
        ctx.counts["itemsCompletedCount"] = 1
        await ctx.progress(1, 2)
        details = _csv_chunks(DETAILED_COLUMNS, _detailed_rows(account_id, db, report), detailed)
        detailed_id, _ = await repository.store_file(
            account_id, db, f"report-{report_id}-detailed.csv", "text/csv", details
        )
        ctx.counts.update(itemsCompletedCount=2, personCount=rows[0])
    except Exception as exc:
        reason = (
            str(exc)
            if isinstance(exc, JobFailed | DomainError)
            else "Internal error while computing the report"
        )
        failed = {"status": "FAILED", "failureReason": reason, "completedAt": datetime.now(UTC)}
        await repository.update_report(account_id, db, report_id, failed)
        raise
    done = {
        "status": "COMPLETED",
        "rowCount": rows[0],
        "detailedRowCount": detailed[0],
        "files": {"aggregated": aggregated_id, "detailed": detailed_id},
        "completedAt": datetime.now(UTC),
    }
    await repository.update_report(account_id, db, report_id, done)
    return {"reportId": report_id, "rowCount": rows[0], "detailedRowCount": detailed[0]}


def _as_datetime(value: Any) -> datetime | None:
    return None if value is None else parse_datetime(value)
