"""contactMerge and contactMergePreview (reference: POST /contacts/merge).

The source contact is merged into the destination and deleted, in ONE transaction:
activities and orders are moved or dropped, the destination gets the chosen data, the
source's cID becomes an alias of the survivor. The transaction reads both contacts
itself, so a retried transaction (write conflict, failover) recomputes from fresh data.

The rule of each option (the chosen side is the contact the value names):

* ``orders`` / ``events``: ``merge`` moves the source's orders / activities to the
  destination; ``ignore`` deletes them.
* ``attributes`` / ``supplements``: the chosen side wins every key it has; keys only the
  other side has are kept.
* ``lists``: the chosen side's memberships, exactly (memberships are a set, so a union
  would make the option meaningless).
* ``email_channels`` / ``sms_channels``: the chosen side's channel; if it has none, the
  other side's is kept.
* ``cart``: the chosen side's cart, or the other's if it has none; ``lastModified`` takes
  the cart modified last.
* ``push_channels``: ``merge`` keeps every token of both (the destination's entry wins
  for a token both have); ``ignore`` keeps the destination's only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from app.account.config import AccountConfig
from app.activities import repository as activities
from app.commerce import repository as orders
from app.db import Document, DuplicateKey
from app.errors import DomainError, ErrorCode, Problem
from app.tenant import Tenant

from . import repository
from .consent import ConsentSource, appended, consent_changes, merged_history
from .refs import find_by_ref
from .writes import check_size, duplicate_error, stamp

SIDES = ("sourceContact", "destinationContact")
OPTIONS: dict[str, tuple[str, ...]] = {
    "orders": ("merge", "ignore"),
    "events": ("merge", "ignore"),
    "cart": (*SIDES, "lastModified"),
    "lists": SIDES,
    "attributes": SIDES,
    "supplements": SIDES,
    "email_channels": SIDES,
    "sms_channels": SIDES,
    "push_channels": ("merge", "ignore"),
}
_EPOCH = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class MergeRequest:
    """Merge ``source`` (a contact ref) into ``destination`` with the nine options, by the
    reference's names and values (``check_options`` validates them)."""

    source: str
    destination: str
    options: Mapping[str, str | None]


@dataclass(frozen=True, slots=True)
class MergeResult:
    contact: Document  # the survivor, after the merge
    merged_cid: ObjectId
    activities_moved: int
    activities_dropped: int
    orders_moved: int
    orders_dropped: int


def check_options(options: Mapping[str, str | None]) -> dict[str, str]:
    """All nine options, each with one of its values; VALIDATION_ERROR naming the others."""
    problems = []
    for key, allowed in OPTIONS.items():
        value = options.get(key)
        if value is None:
            problems.append(
                Problem(ErrorCode.VALIDATION_ERROR, f"Option {key} is required", ("input", "options", key))
            )
        elif value not in allowed:
            problems.append(
                Problem(
                    ErrorCode.VALIDATION_ERROR,
                    f"Option {key} must be one of {', '.join(allowed)}, got {value!r}",
                    ("input", "options", key),
                )
            )
    if problems:
        raise DomainError(problems)
    return {k: str(options[k]) for k in OPTIONS}


def merged_document(source: Document, destination: Document, options: dict[str, str]) -> Document:
    """The destination as the options make it (pure; not stamped)."""

    def chosen(option: str) -> tuple[Document, Document]:
        return (source, destination) if options[option] == "sourceContact" else (destination, source)

    doc = dict(destination)
    for option in ("attributes", "supplements"):
        win, other = chosen(option)
        doc[option] = {**(other.get(option) or {}), **(win.get(option) or {})}
    win, _ = chosen("lists")
    doc["lists"] = list(win.get("lists") or [])
    channels = dict(destination.get("channels") or {})
    for option, name in (("email_channels", "email"), ("sms_channels", "sms")):
        win, other = chosen(option)
        picked = (win.get("channels") or {}).get(name) or (other.get("channels") or {}).get(name)
        if picked:
            channels[name] = picked
        else:
            channels.pop(name, None)
    if options["push_channels"] == "merge":
        tokens = {t["token"]: t for t in (source.get("channels") or {}).get("push") or []}
        tokens.update({t["token"]: t for t in (destination.get("channels") or {}).get("push") or []})
        channels["push"] = list(tokens.values())
    doc["channels"] = channels
    if options["cart"] == "lastModified":
        carts = [c for c in (source.get("cart"), destination.get("cart")) if c]
        cart = max(carts, key=lambda c: c.get("lastModified") or _EPOCH, default=None)
    else:
        win, other = chosen("cart")
        cart = win.get("cart") or other.get("cart")
    if cart:
        doc["cart"] = cart
    else:
        doc.pop("cart", None)
    doc["mergedFrom"] = [
        *(destination.get("mergedFrom") or []),
        source["_id"],
        *(source.get("mergedFrom") or []),
    ]
    return doc


async def _resolve(
    tenant: Tenant, config: AccountConfig, ref: str, field: str, session: Any = None
) -> Document:
    try:
        contact = await find_by_ref(tenant, config.keys, ref, session=session)
    except DomainError as exc:
        raise DomainError([Problem(p.code, p.message, ("input", field)) for p in exc.problems]) from exc
    if contact is None:
        raise DomainError.one(ErrorCode.CONTACTS_CONTACT_NOT_FOUND, "Contact not found", ("input", field))
    return contact


async def _pair(
    tenant: Tenant,
    config: AccountConfig,
    source_ref: str,
    destination_ref: str,
    session: Any = None,
) -> tuple[Document, Document]:
    source = await _resolve(tenant, config, source_ref, "sourceContact", session)
    destination = await _resolve(tenant, config, destination_ref, "destinationContact", session)
    if source["_id"] == destination["_id"]:
        raise DomainError.one(
            ErrorCode.VALIDATION_ERROR,
            "Source and destination are the same contact",
            ("input", "destinationContact"),
        )
    return source, destination


async def preview_merge(tenant: Tenant, config: AccountConfig, request: MergeRequest) -> MergeResult:
    """What merge_contacts would do, writing nothing."""
    chosen = check_options(request.options)
    source, destination = await _pair(tenant, config, request.source, request.destination)
    events = await activities.pages(tenant).count({"cID": source["_id"]})
    placed = await orders.pages(tenant).count({"cID": source["_id"]})
    now = datetime.now(UTC)
    doc = stamp(
        _with_history(source, destination, merged_document(source, destination, chosen), now, None), now
    )
    return _result(doc, source["_id"], events, placed, chosen)


async def merge_contacts(
    tenant: Tenant, config: AccountConfig, request: MergeRequest, api_key: str | None = None
) -> MergeResult:
    chosen = check_options(request.options)
    outcome: dict[str, MergeResult] = {}

    async def merge(session: Any) -> None:
        source, destination = await _pair(tenant, config, request.source, request.destination, session)
        src, dst = source["_id"], destination["_id"]
        now = datetime.now(UTC)
        merged = merged_document(source, destination, chosen)
        doc = stamp(_with_history(source, destination, merged, now, api_key), now)
        check_size(doc, ("input",))
        if chosen["events"] == "merge":
            events = await activities.move_to_contact(tenant, src, dst, session)
        else:
            events = await activities.delete_for_contact(tenant, src, session)
        if chosen["orders"] == "merge":
            placed = await orders.move_to_contact(tenant, src, dst, session)
        else:
            placed = await orders.delete_for_contact(tenant, src, session)
        # The source goes first: its unique identifiers are free before the survivor takes them.
        await repository.delete_one(tenant, src, session)
        if not await repository.replace_if_version(tenant, doc, int(destination.get("version", 0)), session):
            raise DomainError.one(
                ErrorCode.CONTACTS_VERSION_CONFLICT, "The destination changed: retry", ("input",)
            )
        await repository.add_alias(tenant, src, dst, session)
        outcome["result"] = _result(doc, src, events, placed, chosen)

    try:
        await tenant.transaction(merge)
    except DuplicateKey as exc:
        raise duplicate_error(exc, ("input",)) from exc
    return outcome["result"]


def _with_history(
    source: Document, destination: Document, merged: Document, now: datetime, api_key: str | None
) -> Document:
    """Both contacts' consent history (the source's marked merged), then what the merge
    itself changed on the survivor's channels."""
    dropped = int(source.get("consentHistoryDropped", 0)) + int(destination.get("consentHistoryDropped", 0))
    base = {**merged, "consentHistory": [], "consentHistoryDropped": dropped}
    changes = consent_changes(
        destination, merged, ConsentSource("merge", "contactMerge", api_key=api_key), now
    )
    doc = appended(base, [*merged_history(source, destination), *changes])
    if not doc.get("consentHistoryDropped"):
        doc.pop("consentHistoryDropped", None)
    return doc


def _result(
    doc: Document, source: ObjectId, events: int, placed: int, options: dict[str, str]
) -> MergeResult:
    moved_events = options["events"] == "merge"
    moved_orders = options["orders"] == "merge"
    return MergeResult(
        contact=doc,
        merged_cid=source,
        activities_moved=events if moved_events else 0,
        activities_dropped=0 if moved_events else events,
        orders_moved=placed if moved_orders else 0,
        orders_dropped=0 if moved_orders else placed,
    )
