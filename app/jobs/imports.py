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
from dataclasses import dataclass, replace
from typing import Any

from app.account.attributes import AttributeType, resolve_path
from app.account.config import AccountConfig, load_account_config
from app.contacts.attributes import AttributeChange
from app.contacts.bulk import upsert_many
from app.contacts.channels import AddressChannelChange, ChannelChanges, PushTokenChange
from app.contacts.consent import ConsentSource
from app.contacts.writes import ContactWrite
from app.db import Document
from app.errors import DomainError, ErrorCode, Problem
from app.tenant import Tenant

from . import repository
from .runner import JobContext, JobFailed

KIND = "contacts_import"
MAX_ROWS = 100_000
MAX_CSV_BYTES = 10 * 1024 * 1024
CHUNK_ROWS = 500  # rows per lookup, bulk write and progress write (about half a second)
COUNTS = ("itemsCompletedCount", "personCount", "errorCount", "correctableCount", "cannotAddToListCount",
          "listCount")  # fmt: skip
POLICIES = ("SKIP_FAILED_ROWS", "REJECT_ALL")
FIXED_COLUMNS = ("email", "sms", "subscribeStatus", "lists")


@dataclass(frozen=True, slots=True)
class ImportRequest:
    rows: list[dict[str, Any]] | None  # inline contacts, as plain ContactInput dicts
    csv_text: str | None
    source_file_name: str | None
    lists: list[str]
    error_policy: str


async def create_import(tenant: Tenant, request: ImportRequest) -> Document:
    """Check the request (not the rows: the job does) and queue the job."""
    if (request.rows is None) == (request.csv_text is None):
        raise DomainError.one(ErrorCode.VALIDATION_ERROR, "Give either contacts or csv", ("input",))
    if request.error_policy not in POLICIES:
        raise DomainError.one(
            ErrorCode.VALIDATION_ERROR, f"errorPolicy must be one of {POLICIES}", ("input", "errorPolicy")
        )
    config = await load_account_config(tenant)
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
    return await repository.insert(tenant, KIND, job_input, request.source_file_name)


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


def _drop_unknown_lists(write: ContactWrite, config: AccountConfig) -> tuple[ContactWrite, list[str]]:
    unknown = [k for k, _ in write.lists if k not in config.lists]
    if not unknown:
        return write, []
    kept = tuple((k, m) for k, m in write.lists if k in config.lists)
    return replace(write, lists=kept), unknown


def _describe(problems: list[Problem]) -> str:
    return "; ".join(f"{'.'.join(p.field[1:]) or 'contact'}: {p.message}" for p in problems)


@dataclass
class _Run:
    """One import as it runs: its rows, where it stands and its counts (the job's)."""

    ctx: JobContext
    config: AccountConfig
    writes: list[ContactWrite]
    reject_all: bool

    @property
    def total(self) -> int:
        return len(self.writes)

    def chunks(self, start: int) -> list[tuple[int, list[ContactWrite]]]:
        return [(i, self.writes[i : i + CHUNK_ROWS]) for i in range(start, self.total, CHUNK_ROWS)]

    async def progress(self, phase: str, done: int, **extra: Any) -> None:
        steps = 2 * self.total if self.reject_all else self.total  # REJECT_ALL checks, then writes
        offset = self.total if self.reject_all and phase == "write" else 0
        await self.ctx.progress(offset + done, steps, checkpoint={"phase": phase, "next": done}, **extra)


async def run_import(ctx: JobContext) -> Document:
    """The import in chunks of CHUNK_ROWS: per chunk one lookup per identifier kind, one bulk
    write and one progress write (which renews the lease and notices a cancel or a stopping
    worker). Progress is a checkpoint: a job taken up again (after its worker stopped or
    died) goes on from the first chunk not done; a chunk cut short is done again."""
    tenant = ctx.tenant
    job_input = ctx.job["input"]
    config = await load_account_config(tenant)
    if job_input.get("csv") is not None:
        rows = [_csv_row(r, config) for r in _read_csv(job_input["csv"])[1]]
    else:
        rows = job_input["rows"]
    lists: list[str] = job_input.get("lists") or []
    source = ConsentSource("import", "contactsImport", job_id=str(ctx.job["_id"]))
    writes = [replace(_write(row, lists), source=source) for row in rows]
    run = _Run(ctx, config, writes, job_input["errorPolicy"] == "REJECT_ALL")
    checkpoint = ctx.job.get("checkpoint")
    if checkpoint is None:
        ctx.counts.update(dict.fromkeys(COUNTS, 0), itemsTotalCount=run.total)
        checkpoint = {"phase": "check" if run.reject_all else "write", "next": 0}
    if checkpoint["phase"] == "check":
        await _check(run, checkpoint["next"])
        checkpoint = {"phase": "write", "next": 0}
    await _write_all(run, checkpoint["next"])
    return {"imported": ctx.counts["personCount"], "failed": ctx.counts["errorCount"]}


async def _check(run: _Run, start: int) -> None:
    """REJECT_ALL: every row checked (nothing written); any problem fails the job."""
    counts = run.ctx.counts
    for first, chunk in run.chunks(start):
        results = await upsert_many(run.ctx.tenant, run.config, chunk, dry_run=True)
        for offset, result in enumerate(results):
            if not result.ok:
                counts["errorCount"] += 1
                counts["correctableCount"] += 1
                run.ctx.error(f"row {first + offset + 1}: {_describe(result.problems)}")
        await run.progress("check", first + len(chunk))
    if counts["errorCount"]:
        raise JobFailed(
            f"{counts['errorCount']} of {run.total} rows are invalid; nothing was imported (REJECT_ALL)"
        )


async def _write_all(run: _Run, start: int) -> None:
    counts = run.ctx.counts
    assigned: set[str] = set(run.ctx.job.get("listsAssigned") or [])
    for first, original in run.chunks(start):
        dropped = [_drop_unknown_lists(write, run.config) for write in original]
        chunk = [kept for kept, _ in dropped]
        results = await upsert_many(run.ctx.tenant, run.config, chunk)
        for offset, result in enumerate(results):
            unknown = dropped[offset][1]
            if unknown:
                counts["cannotAddToListCount"] += 1
                run.ctx.error(f"row {first + offset + 1}: unknown list {unknown[0]!r}; imported without it")
            if result.ok:
                counts["personCount"] += 1
                assigned.update(k for k, member in chunk[offset].lists if member)
                continue
            counts["errorCount"] += 1
            if all(p.code is ErrorCode.VALIDATION_ERROR for p in result.problems):
                counts["correctableCount"] += 1
            run.ctx.error(f"row {first + offset + 1}: {_describe(result.problems)}")
        counts["itemsCompletedCount"] = first + len(chunk)
        counts["listCount"] = len(assigned)
        await run.progress("write", first + len(chunk), listsAssigned=sorted(assigned))
