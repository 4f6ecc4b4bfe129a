"""The shared machinery of contact writes.

A write is computed in Python from the stored document (``apply_write`` is pure) and
stored with optimistic locking on ``version``: if another write got there first, the
change is recomputed from the fresh document. A write therefore lands whole or not at
all, and ``inc`` / ``add`` never lose a concurrent update.
"""

from __future__ import annotations

import asyncio
import copy
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.account.config import AccountConfig
from app.db import Document, DuplicateKey
from app.errors import DomainError, ErrorCode, Problem
from app.sizes import MAX_CONTACT_BYTES, over_limit
from app.tenant import Tenant

from . import repository
from .attributes import AttributeChange, apply_changes, missing_required
from .channels import ChannelChanges, apply_channels
from .consent import ConsentSource, with_consent_history
from .refs import find_by_ref

MAX_ATTEMPTS = 30
BACKOFF_S = 0.002  # grows with each attempt, jittered so that competing writers spread out


@dataclass(frozen=True, slots=True)
class ContactWrite:
    """What a create, upsert or update asks for, as plain values."""

    channels: ChannelChanges | None = None
    attributes: tuple[AttributeChange, ...] = ()
    lists: tuple[tuple[str, bool], ...] = ()
    force_subscribe: bool = False
    expected_version: int | None = None
    path: tuple[str, ...] = field(default=("input",))
    source: ConsentSource | None = None  # who asks: recorded in the consent history


def apply_write(current: Document, write: ContactWrite, config: AccountConfig, now: datetime) -> Document:
    """The contact after ``write``; raises DomainError with every problem and changes nothing."""
    doc = copy.deepcopy(current)
    problems: list[Problem] = []
    if write.channels is not None:
        doc["channels"], found = apply_channels(
            doc.get("channels") or {},
            write.channels,
            force_subscribe=write.force_subscribe,
            now=now,
            path=(*write.path, "channels"),
        )
        problems.extend(found)
        doc = with_consent_history(current, doc, write.source, now, forced=write.force_subscribe)
    if write.attributes:
        doc["attributes"], found = apply_changes(
            doc.get("attributes") or {},
            list(write.attributes),
            config.definitions,
            (*write.path, "attributes"),
        )
        problems.extend(found)
    if write.lists:
        lists = list(doc.get("lists") or [])
        for i, (key, member) in enumerate(write.lists):
            if key not in config.lists:
                problems.append(
                    Problem(
                        ErrorCode.VALIDATION_ERROR,
                        f"Unknown list {key!r}",
                        (*write.path, "lists", str(i), "key"),
                    )
                )
            elif member and key not in lists:
                lists.append(key)
            elif not member and key in lists:
                lists.remove(key)
        doc["lists"] = lists
    if problems:
        raise DomainError(problems)
    return doc


def check_new_contact(doc: Document, config: AccountConfig, path: tuple[str, ...]) -> None:
    """A new contact needs an address (or its primary key) and every required attribute."""
    problems: list[Problem] = []
    channels = doc.get("channels") or {}
    has_address = any((channels.get(c) or {}).get("address") for c in ("email", "sms"))
    primary = config.keys.primary
    if not has_address and (primary == "email" or doc["attributes"].get(primary) is None):
        problems.append(Problem(ErrorCode.VALIDATION_ERROR, "Address cannot be empty", (*path, "channels")))
    for key in missing_required(doc.get("attributes") or {}, config.definitions):
        problems.append(Problem(ErrorCode.VALIDATION_ERROR, f"{key}: is required", (*path, "attributes")))
    if problems:
        raise DomainError(problems)


def duplicate_error(exc: DuplicateKey, path: tuple[str, ...]) -> DomainError:
    """Which unique identifier collided, as CONTACTS_RECORD_EXISTS naming the field."""
    name = exc.fields[0] if exc.fields else ""
    if name.startswith("attributes."):
        where: tuple[str, ...] = (*path, "attributes", name.split(".", 1)[1])
    elif name.startswith("channels."):
        where = (*path, *name.split(".")[:2], "address")
    else:
        where = path
    shown = name.replace("channels.", "").replace(".address", "").replace("attributes.", "")
    return DomainError.one(
        ErrorCode.CONTACTS_RECORD_EXISTS, f"Contact already exists with this {shown or 'identifier'}", where
    )


def check_size(doc: Document, path: tuple[str, ...]) -> None:
    """A contact past MAX_CONTACT_BYTES is refused before it is written (the driver would
    fail with DocumentTooLarge at 16 MiB, and such a contact slows every read of it)."""
    problem = over_limit(doc, MAX_CONTACT_BYTES, "contact")
    if problem is not None:
        detail = "(attributes, channels, cart and supplements together)"
        raise DomainError.one(ErrorCode.VALIDATION_ERROR, f"{problem[0].upper()}{problem[1:]} {detail}", path)


def stamp(doc: Document, now: datetime) -> Document:
    doc["lastModified"] = now
    doc["version"] = int(doc.get("version", 0)) + 1
    return doc


async def mutate_contact(
    tenant: Tenant,
    config: AccountConfig,
    ref: str,
    change: Callable[[Document, datetime], Document],
    *,
    expected_version: int | None = None,
    path: tuple[str, ...] = ("input",),
    store: Callable[[Document, int], Awaitable[bool]] | None = None,
) -> tuple[Document, Document]:
    """Apply ``change`` to the contact ``ref`` names; returns (before, after).

    ``change`` returns the new document (or the same one for "nothing to do"); raising
    DomainError aborts. ``store`` replaces the default compare-and-set write (e.g. to
    write inside a transaction with other documents)."""
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            await asyncio.sleep(random.uniform(0, BACKOFF_S * attempt))  # noqa: S311 - jitter, not crypto
        current = await find_by_ref(tenant, config.keys, ref)
        if current is None:
            raise DomainError.one(ErrorCode.CONTACTS_CONTACT_NOT_FOUND, "Contact not found", ("ref",))
        version = int(current.get("version", 0))
        if expected_version is not None and version != expected_version:
            raise DomainError.one(
                ErrorCode.CONTACTS_VERSION_CONFLICT,
                f"The contact is at version {version}, not {expected_version}: reload and retry",
                (*path, "expectedVersion"),
            )
        now = datetime.now(UTC)
        updated = change(current, now)
        if updated == current:
            return current, current
        stamp(updated, now)
        check_size(updated, path)
        try:
            if store is not None:
                stored = await store(updated, version)
            else:
                stored = await repository.replace_if_version(tenant, updated, version)
        except DuplicateKey as exc:
            raise duplicate_error(exc, path) from exc
        if stored:
            return current, updated
    raise DomainError.one(
        ErrorCode.CONTACTS_VERSION_CONFLICT, "The contact kept changing under this write: retry", (*path,)
    )


def with_write(write: ContactWrite, config: AccountConfig) -> Callable[[Document, datetime], Document]:
    def change(current: Document, now: datetime) -> Document:
        return apply_write(current, write, config, now)

    return change


def new_contact_document(write: ContactWrite, config: AccountConfig, now: datetime) -> Document:
    blank: Document = {"channels": {}, "attributes": {}, "lists": [], "supplements": {}}
    doc = apply_write(blank, write, config, now)
    check_new_contact(doc, config, write.path)
    doc.update(createdAt=now, lastModified=now, version=1)
    check_size(doc, write.path)
    return doc


def identifier_refs(write: ContactWrite, config: AccountConfig) -> list[str]:
    """Refs for the identifiers a write carries, primary key first (for upserts)."""
    refs: list[str] = []
    channels = write.channels or ChannelChanges()
    primary = config.keys.primary
    values: dict[str, Any] = {c.key: c.value for c in write.attributes if c.value is not None}
    if primary != "email" and values.get(primary) is not None:
        refs.append(f"{primary}:{values[primary]}")
    if channels.email and channels.email.address:
        refs.append(f"email:{channels.email.address}")
    refs.extend(f"{key}:{values[key]}" for key in config.keys.secondary if values.get(key) is not None)
    if channels.sms and channels.sms.address:
        refs.append(f"sms:{channels.sms.address}")
    return refs
