"""contactsImport: contacts inline or as CSV, validated row by row with the contact-write
rules, with an error policy, as a job with the reference's progress counts.

CSV: a header row; columns ``email``, ``sms``, ``subscribeStatus`` (of the email channel),
``lists`` (list keys separated by ``;``) and attribute keys (``location.city`` for a geo
sub-field; array values separated by ``;``). Empty cells are left out. Each row is an
upsert by the contact's identifiers (see contactUpsert).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.account.attributes import AttributeType, resolve_path
from app.account.config import AccountConfig, load_account_config
from app.contacts.attributes import AttributeChange
from app.contacts.channels import AddressChannelChange, ChannelChanges, PushTokenChange
from app.contacts.create import upsert_contact
from app.contacts.refs import find_by_ref
from app.contacts.writes import ContactWrite, apply_write, identifier_refs, new_contact_document
from app.db import Database, Document
from app.errors import DomainError, ErrorCode, Problem

from . import repository
from .runner import JobContext, JobFailed

KIND = "contacts_import"
MAX_ROWS = 100_000
MAX_CSV_BYTES = 10 * 1024 * 1024
PROGRESS_EVERY = 100
POLICIES = ("SKIP_FAILED_ROWS", "REJECT_ALL")
FIXED_COLUMNS = ("email", "sms", "subscribeStatus", "lists")


@dataclass(frozen=True, slots=True)
class ImportRequest:
    rows: list[dict[str, Any]] | None  # inline contacts, as plain ContactInput dicts
    csv_text: str | None
    source_file_name: str | None
    lists: list[str]
    error_policy: str


async def create_import(account_id: str, db: Database, request: ImportRequest) -> Document:
    """Check the request (not the rows: the job does) and queue the job."""
    if (request.rows is None) == (request.csv_text is None):
        raise DomainError.one(ErrorCode.VALIDATION_ERROR, "Give either contacts or csv", ("input",))
    if request.error_policy not in POLICIES:
        raise DomainError.one(
            ErrorCode.VALIDATION_ERROR, f"errorPolicy must be one of {POLICIES}", ("input", "errorPolicy")
        )
    config = await load_account_config(account_id, db)
    unknown = [key for key in request.lists if key not in config.lists]
    if unknown:
        raise DomainError.one(ErrorCode.VALIDATION_ERROR, f"Unknown list {unknown[0]!r}", ("input", "lists"))
    if request.csv_text is not None:
        if len(request.csv_text.encode()) > MAX_CSV_BYTES:
            raise DomainError.one(ErrorCode.VALIDATION_ERROR, "csv is larger than 10 MB", ("input", "csv"))
        header, rows = _read_csv(request.csv_text)
        problems = _header_problems(header, config)
        if problems:
            raise DomainError(problems)
        count = len(rows)
    else:
        count = len(request.rows or [])
    if not 1 <= count <= MAX_ROWS:
        raise DomainError.one(
            ErrorCode.VALIDATION_ERROR, f"Import 1-{MAX_ROWS} contacts, got {count}", ("input",)
        )
    job_input = {
        "rows": request.rows,
        "csv": request.csv_text,
        "lists": request.lists,
        "errorPolicy": request.error_policy,
    }
    return await repository.insert(account_id, db, KIND, job_input, request.source_file_name)


def _read_csv(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def _header_problems(header: list[str], config: AccountConfig) -> list[Problem]:
    if not header:
        return [Problem(ErrorCode.VALIDATION_ERROR, "The CSV has no header row", ("input", "csv"))]
    return [
        Problem(ErrorCode.VALIDATION_ERROR, f"Unknown CSV column {column!r}", ("input", "csv"))
        for column in header
        if column not in FIXED_COLUMNS and resolve_path(config.definitions, column) is None
    ]


def _csv_row(row: dict[str, str], config: AccountConfig) -> dict[str, Any]:
    """A CSV row as a plain ContactInput dict, values typed by their attribute."""
    plain: dict[str, Any] = {"attributes": [], "lists": []}
    email: dict[str, Any] = {}
    for column, raw in row.items():
        value = (raw or "").strip()
        if not value or column is None:
            continue
        if column == "email":
            email["address"] = value
        elif column == "subscribeStatus":
            email["subscribeStatus"] = value.lower()
        elif column == "sms":
            plain.setdefault("channels", {})["sms"] = {"address": value}
        elif column == "lists":
            plain["lists"] = [{"key": k.strip(), "member": True} for k in value.split(";") if k.strip()]
        else:
            plain["attributes"].append({"key": column, "value": _typed(column, value, config)})
    if email:
        plain.setdefault("channels", {})["email"] = email
    return plain


def _typed(column: str, value: str, config: AccountConfig) -> Any:
    resolved = resolve_path(config.definitions, column)
    assert resolved is not None  # the header was checked
    definition, sub = resolved
    numeric = definition.type is AttributeType.NUMBER or (sub is not None and sub.startswith("loc."))
    if numeric:
        try:
            number = float(value)
        except ValueError:
            return value  # the write reports "expected a number"
        return int(number) if number.is_integer() else number
    if definition.type is AttributeType.ARRAY:
        return [v.strip() for v in value.split(";") if v.strip()]
    return value


def _write(plain: dict[str, Any], lists: list[str]) -> ContactWrite:
    channels = None
    if plain.get("channels"):
        c = plain["channels"]

        def address(d: dict[str, Any] | None) -> AddressChannelChange | None:
            if d is None:
                return None
            status = d.get("subscribeStatus")
            return AddressChannelChange(
                d.get("address"), status.lower() if isinstance(status, str) else None, d.get("invalid")
            )

        push = tuple(
            PushTokenChange(p["token"], p.get("platform"), p.get("subscribeStatus"), p.get("invalid"))
            for p in c.get("push") or []
        )
        channels = ChannelChanges(
            address(c.get("email")), address(c.get("sms")), push if c.get("push") else None
        )
    attributes = tuple(
        AttributeChange(
            a["key"], a.get("value"), a.get("inc"), a.get("add"), a.get("remove"), bool(a.get("unset"))
        )
        for a in plain.get("attributes") or []
    )
    memberships = [(m["key"], bool(m["member"])) for m in plain.get("lists") or []]
    memberships += [(key, True) for key in lists]
    return ContactWrite(channels, attributes, tuple(memberships), bool(plain.get("forceSubscribe")))


async def _validate(account_id: str, db: Database, config: AccountConfig, write: ContactWrite) -> None:
    """Raise the problems the write would have, without storing anything."""
    now = datetime.now(UTC)
    for ref in identifier_refs(write, config):
        try:
            existing = await find_by_ref(account_id, db, config.keys, ref)
        except DomainError:
            continue
        if existing is not None:
            apply_write(existing, write, config, now)
            return
    new_contact_document(write, config, now)


def _drop_unknown_lists(write: ContactWrite, config: AccountConfig) -> tuple[ContactWrite, list[str]]:
    unknown = [k for k, _ in write.lists if k not in config.lists]
    if not unknown:
        return write, []
    kept = tuple((k, m) for k, m in write.lists if k in config.lists)
    return ContactWrite(write.channels, write.attributes, kept, write.force_subscribe), unknown


def _describe(problems: list[Problem]) -> str:
    return "; ".join(f"{'.'.join(p.field[1:]) or 'contact'}: {p.message}" for p in problems)


async def run_import(ctx: JobContext) -> Document:
    account_id, db = ctx.account_id, ctx.db
    job_input = ctx.job["input"]
    config = await load_account_config(account_id, db)
    if job_input.get("csv") is not None:
        _, raw_rows = _read_csv(job_input["csv"])
        rows = [_csv_row(r, config) for r in raw_rows]
    else:
        rows = job_input["rows"]
    lists: list[str] = job_input.get("lists") or []
    total = len(rows)
    counts = ctx.counts
    counts.update(
        itemsTotalCount=total,
        itemsCompletedCount=0,
        personCount=0,
        errorCount=0,
        correctableCount=0,
        cannotAddToListCount=0,
        listCount=0,
    )
    writes = [_write(row, lists) for row in rows]
    if job_input["errorPolicy"] == "REJECT_ALL":
        for i, write in enumerate(writes):
            try:
                await _validate(account_id, db, config, write)
            except DomainError as exc:
                counts["errorCount"] += 1
                counts["correctableCount"] += 1
                ctx.error(f"row {i + 1}: {_describe(exc.problems)}")
            if (i + 1) % PROGRESS_EVERY == 0:
                await ctx.progress(i + 1, 2 * total)
        if counts["errorCount"]:
            raise JobFailed(
                f"{counts['errorCount']} of {total} rows are invalid; nothing was imported (REJECT_ALL)"
            )
    assigned: set[str] = set()
    for i, write in enumerate(writes):
        write, unknown = _drop_unknown_lists(write, config)
        if unknown:
            counts["cannotAddToListCount"] += 1
            ctx.error(f"row {i + 1}: unknown list {unknown[0]!r}; imported without it")
        try:
            await upsert_contact(account_id, db, config, write)
        except DomainError as exc:
            counts["errorCount"] += 1
            if all(p.code is ErrorCode.VALIDATION_ERROR for p in exc.problems):
                counts["correctableCount"] += 1
            ctx.error(f"row {i + 1}: {_describe(exc.problems)}")
        else:
            counts["personCount"] += 1
            assigned.update(k for k, member in write.lists if member)
        counts["itemsCompletedCount"] = i + 1
        counts["listCount"] = len(assigned)
        if (i + 1) % PROGRESS_EVERY == 0:
            done = i + 1 + (total if job_input["errorPolicy"] == "REJECT_ALL" else 0)
            await ctx.progress(done, 2 * total if job_input["errorPolicy"] == "REJECT_ALL" else total)
    return {"imported": counts["personCount"], "failed": counts["errorCount"]}
