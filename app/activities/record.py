"""Recording events (eventRecord, eventsRecord): validate each, store the valid ones in
bulk, idempotently.

Reference rules (000): custom action names are 1-40 characters; reserved actions need
the messaging pipeline's ``activities:system`` scope; ``ats`` defaults to now; at most
1,000 properties, unusable keys stripped and reported; the first type seen per
(action, property) is recorded and later values of another type are kept but not
searchable. An ``idempotencyKey`` seen before stores nothing and returns the activity
already stored (a unique index makes this hold under concurrent senders).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from app.contacts.refs import IdentifierKeys, find_ids_by_refs
from app.db import Document
from app.errors import DomainError, ErrorCode, Problem
from app.sizes import MAX_ACTIVITY_BYTES, MAX_JSON_DEPTH, over_limit, too_deep
from app.tenant import Tenant

from . import repository
from .properties import MAX_PROPERTIES, strip_keys, type_of
from .retention import expire_at

RESERVED_ACTIONS = frozenset(
    {"message-sent", "open", "click", "optout", "bounce", "complaint", "pageview", "message-stopped"}
    # the landing-page actions behind Constant Contact's P_CONTACT_* tracking types
    | {"page-click", "page-contact-add", "page-contact-update"}
)
MAX_ACTION_LENGTH = 40
MAX_BATCH = 10_000
MAX_KEY_LENGTH = 512
_HEX24 = re.compile(r"^[0-9a-fA-F]{24}$")


@dataclass(frozen=True, slots=True)
class EventData:
    """One event as the caller sent it. ``contact`` is a ref; ``identifier`` a (key, value)."""

    contact: str | None = None
    identifier: tuple[str, str] | None = None
    action: str | None = None
    ats: datetime | None = None
    properties: Any = None
    mc_id: str | None = None
    channel: str | None = None
    idempotency_key: str | None = None


@dataclass(slots=True)
class EventResult:
    index: int
    activity: Document | None = None
    deduplicated: bool = False
    stripped_keys: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass(slots=True)
class _Pending:
    result: EventResult
    ref: str
    doc: Document


def _problem(code: ErrorCode, message: str, *path: str) -> Problem:
    return Problem(code, message, tuple(path))


def _validate(event: EventData, system: bool, path: tuple[str, ...]) -> tuple[str, Document, list[str]]:
    """(contact ref, document without cID, stripped keys); raises DomainError."""
    given = [
        event.contact,
        event.identifier,
        event.action,
        event.properties,
        event.mc_id,
        event.idempotency_key,
    ]
    if all(v is None for v in given):
        raise DomainError(
            [_problem(ErrorCode.CONTACT_ACTIVITIES_INVALID_PAYLOAD, "Invalid payload: it is empty", *path)]
        )
    problems: list[Problem] = []
    action = (event.action or "").strip()
    if not 1 <= len(action) <= MAX_ACTION_LENGTH or action != event.action:
        problems.append(
            _problem(
                ErrorCode.CONTACT_ACTIVITIES_INCORRECT_ACTION_NAME,
                f"Incorrect action name: 1-{MAX_ACTION_LENGTH} characters without surrounding spaces",
                *path, "action",
            )
        )  # fmt: skip
    elif action in RESERVED_ACTIONS and not system:
        problems.append(
            _problem(
                ErrorCode.CONTACT_ACTIVITIES_INCORRECT_ACTION_NAME,
                f"Incorrect action name: {action!r} is reserved for the messaging pipeline "
                "(the activities:system scope)",
                *path, "action",
            )
        )  # fmt: skip
    ref = ""
    if (event.contact is None) == (event.identifier is None):
        problems.append(
            _problem(
                ErrorCode.CONTACT_ACTIVITIES_VALIDATION_ERROR,
                "Validation error: name the contact with either contact (a ref) or identifier",
                *path, "contact",
            )
        )  # fmt: skip
    elif event.contact is not None:
        ref = event.contact
    elif event.identifier is not None:
        key, value = event.identifier
        ref = f"{key}:{value}"
    properties = event.properties if event.properties is not None else {}
    stripped: list[str] = []
    if not isinstance(properties, dict):
        problems.append(
            _problem(
                ErrorCode.CONTACT_ACTIVITIES_VALIDATION_ERROR,
                "Validation error: properties must be an object",
                *path, "properties",
            )
        )  # fmt: skip
    elif too_deep(properties):
        problems.append(
            _problem(
                ErrorCode.CONTACT_ACTIVITIES_VALIDATION_ERROR,
                f"Validation error: properties nest at most {MAX_JSON_DEPTH} levels of objects and arrays",
                *path, "properties",
            )
        )  # fmt: skip
    elif len(properties) > MAX_PROPERTIES:
        problems.append(
            _problem(
                ErrorCode.CONTACT_ACTIVITIES_VALIDATION_ERROR,
                f"Validation error: at most {MAX_PROPERTIES} properties, got {len(properties)}",
                *path, "properties",
            )
        )  # fmt: skip
    else:
        properties, stripped = strip_keys(properties)
    optional = {"idempotencyKey": event.idempotency_key, "mcID": event.mc_id, "channel": event.channel}
    for name, text in optional.items():
        if text is not None and not 1 <= len(text) <= MAX_KEY_LENGTH:
            problems.append(
                _problem(ErrorCode.CONTACT_ACTIVITIES_VALIDATION_ERROR,
                         f"Validation error: {name} must be 1-{MAX_KEY_LENGTH} characters", *path, name)
            )  # fmt: skip
    if problems:
        raise DomainError(problems)
    ats = event.ats or datetime.now(UTC)
    doc: Document = {"_id": ObjectId(), "action": action, "ats": ats, "properties": properties,
                     "expireAt": expire_at(ats), "recordedAt": datetime.now(UTC)}  # fmt: skip
    if event.mc_id is not None:
        doc["mcID"] = event.mc_id
        message_id = message_id_of(event.mc_id)
        if message_id is not None:
            doc["messageId"] = message_id
    if event.channel is not None:
        doc["channel"] = event.channel
    if event.idempotency_key is not None:
        doc["idempotencyKey"] = event.idempotency_key
    problem = over_limit(doc, MAX_ACTIVITY_BYTES, "event")
    if problem is not None:
        code = ErrorCode.CONTACT_ACTIVITIES_VALIDATION_ERROR
        raise DomainError.one(code, f"Validation error: {problem}", (*path, "properties"))
    return ref, doc, stripped


def message_id_of(mc_id: str) -> ObjectId | None:
    """The message an mcID names: its second segment ('252:<message id>:ot:<cID>:1')."""
    parts = mc_id.split(":")
    if len(parts) > 1 and _HEX24.match(parts[1]):
        return ObjectId(parts[1])
    return None


async def record_events(
    tenant: Tenant,
    keys: IdentifierKeys,
    events: Sequence[EventData],
    *,
    system: bool,
    batch: bool = True,
) -> list[EventResult]:
    """Validate every event; store the valid ones in one bulk insert. One result per event;
    problems name ``inputs.<index>`` (or ``input`` for a single event, ``batch=False``)."""
    if len(events) > MAX_BATCH:
        raise DomainError.one(
            ErrorCode.CONTACT_ACTIVITIES_VALIDATION_ERROR, f"At most {MAX_BATCH} events per call", ("inputs",)
        )

    def path_of(index: int) -> tuple[str, ...]:
        return ("inputs", str(index)) if batch else ("input",)

    results = [EventResult(index=i) for i in range(len(events))]
    pending: list[_Pending] = []
    for i, event in enumerate(events):
        try:
            ref, doc, stripped = _validate(event, system, path_of(i))
        except DomainError as exc:
            results[i].problems = exc.problems
            continue
        results[i].stripped_keys = stripped
        pending.append(_Pending(results[i], ref, doc))
    if not pending:
        return results
    cids = await find_ids_by_refs(tenant, keys, [p.ref for p in pending])
    ready: list[_Pending] = []
    for item in pending:
        cid = cids[item.ref]
        where = path_of(item.result.index)
        if isinstance(cid, DomainError):
            item.result.problems = [Problem(p.code, p.message, (*where, "contact")) for p in cid.problems]
        elif cid is None:
            item.result.problems = [
                _problem(ErrorCode.CONTACTS_CONTACT_NOT_FOUND, "Contact not found", *where, "contact")
            ]
        else:
            item.doc["cID"] = cid
            ready.append(item)
    await register_property_types(tenant, [p.doc for p in ready])
    duplicates = await repository.insert_events(tenant, [p.doc for p in ready])
    for n, item in enumerate(ready):
        if n not in duplicates:
            item.doc["accountId"] = tenant.account_id
            item.result.activity = item.doc
    if duplicates:
        keys_seen = [ready[n].doc["idempotencyKey"] for n in duplicates]
        stored = {
            d["idempotencyKey"]: d for d in await repository.find_by_idempotency_keys(tenant, keys_seen)
        }
        for n in duplicates:
            item = ready[n]
            item.result.activity = stored.get(item.doc["idempotencyKey"])
            item.result.deduplicated = True
    return results


async def register_property_types(tenant: Tenant, docs: list[Document]) -> None:
    """Record each (action, property)'s first type; a value of another type is listed in
    the activity's ``unsearchable`` and is never matched by property filters."""
    seen: dict[tuple[str, str], str] = {}
    for doc in docs:
        for key, value in doc["properties"].items():
            kind = type_of(value)
            if kind is not None:
                seen.setdefault((doc["action"], key), kind)
    if not seen:
        return
    known = await repository.recorded_property_types(tenant, list(seen))
    new = {pair: kind for pair, kind in seen.items() if pair not in known}
    await repository.record_property_types(tenant, new)
    if new:  # another writer may have recorded some of them first: theirs is the first type
        known = await repository.recorded_property_types(tenant, list(seen))
    for doc in docs:
        off = sorted(
            key
            for key, value in doc["properties"].items()
            if type_of(value) is not None and known.get((doc["action"], key)) != type_of(value)
        )
        if off:
            doc["unsearchable"] = off
