"""Consent history: every change of a channel's ``subscribeStatus`` or ``invalid`` flag is
appended to the contact's ``consentHistory`` by the same write that makes it (one document,
so one atomic write: the history can never disagree with the channel).

An entry: ``{channel, token?, at, from: {subscribeStatus, invalid} | None, to: ... | None,
source: {kind, operation?, jobId?, apiKey?}, mcID?, forced?, merged?, mergedFrom?}``;
``from`` is None when the channel appears, ``to`` when it is removed. ``kind`` is
``mutation`` (``operation`` names it), ``import`` (``jobId``), ``merge`` or ``seed``.
A merge keeps both contacts' entries, the source's marked ``merged`` with ``mergedFrom``.

Pure functions (no database): the write paths call ``with_consent_history`` on the
document they are about to store. At most MAX_ENTRIES are kept per contact; older ones
are dropped and counted in ``consentHistoryDropped``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import ObjectId

from app.db import Document

MAX_ENTRIES = 1000
_Key = tuple[str, str | None]  # (channel, push token)
_State = tuple[str, bool]  # (subscribeStatus, invalid)


@dataclass(frozen=True, slots=True)
class ConsentSource:
    """Who made a change: ``kind`` and what names it."""

    kind: str
    operation: str | None = None
    job_id: str | None = None
    api_key: str | None = None

    def as_doc(self) -> Document:
        doc: Document = {"kind": self.kind}
        for name, value in (("operation", self.operation), ("jobId", self.job_id), ("apiKey", self.api_key)):
            if value is not None:
                doc[name] = value
        return doc


UNKNOWN = ConsentSource("mutation")


def _states(doc: Document | None) -> dict[_Key, _State]:
    channels = (doc or {}).get("channels") or {}
    states: dict[_Key, _State] = {}
    for name in ("email", "sms"):
        channel = channels.get(name)
        if channel and channel.get("address"):
            states[(name, None)] = (channel.get("subscribeStatus") or "none", bool(channel.get("invalid")))
    for token in channels.get("push") or []:
        if token.get("token"):
            states[("push", str(token["token"]))] = (
                token.get("subscribeStatus") or "none",
                bool(token.get("invalid")),
            )
    return states


def _state_doc(state: _State | None) -> Document | None:
    return None if state is None else {"subscribeStatus": state[0], "invalid": state[1]}


def consent_changes(
    before: Document | None,
    after: Document,
    source: ConsentSource,
    now: datetime,
    *,
    mc_id: str | None = None,
    forced: bool = False,
) -> list[Document]:
    """The entries for what changed between ``before`` and ``after`` (empty if nothing)."""
    old, new = _states(before), _states(after)
    entries: list[Document] = []
    for key in [*new, *(k for k in old if k not in new)]:
        if old.get(key) == new.get(key):
            continue
        entry: Document = {"_id": ObjectId(), "channel": key[0], "at": now, "from": _state_doc(old.get(key)),
                           "to": _state_doc(new.get(key)), "source": source.as_doc()}  # fmt: skip
        if key[1] is not None:
            entry["token"] = key[1]
        if mc_id is not None:
            entry["mcID"] = mc_id
        if forced and old.get(key, ("",))[0] == "unsubscribed" and new.get(key, ("",))[0] == "subscribed":
            entry["forced"] = True
        entries.append(entry)
    return entries


def appended(doc: Document, entries: Iterable[Document]) -> Document:
    """``doc`` with ``entries`` added to its history (capped at MAX_ENTRIES)."""
    new = list(entries)
    if not new:
        return doc
    history = [*(doc.get("consentHistory") or []), *new]
    dropped = max(0, len(history) - MAX_ENTRIES)
    result = {**doc, "consentHistory": history[dropped:]}
    if dropped:
        result["consentHistoryDropped"] = int(doc.get("consentHistoryDropped", 0)) + dropped
    return result


def with_consent_history(
    before: Document | None,
    after: Document,
    source: ConsentSource | None,
    now: datetime,
    *,
    mc_id: str | None = None,
    forced: bool = False,
) -> Document:
    """``after`` with an entry for each consent change since ``before``."""
    changes = consent_changes(before, after, source or UNKNOWN, now, mc_id=mc_id, forced=forced)
    return appended(after, changes)


def merged_history(source: Document, destination: Document) -> list[Document]:
    """Both contacts' entries in time order, the source's marked as merged from it."""
    moved = [
        {**e, "merged": True, "mergedFrom": e.get("mergedFrom", str(source["_id"]))}
        for e in source.get("consentHistory") or []
    ]
    both = [*(destination.get("consentHistory") or []), *moved]
    return sorted(both, key=lambda e: e["at"])


def entries_for(doc: Document, channel: str, token: str | None = None) -> list[Document]:
    """One channel's entries (one push token's), oldest first."""
    return [
        e
        for e in doc.get("consentHistory") or []
        if e.get("channel") == channel and (token is None or e.get("token") == token)
    ]


def status_at(entries: list[Document], at: datetime) -> Any:
    """The subscribeStatus the contact's own entries (not those merged in from another
    contact) say the channel had at ``at``; None if it did not exist then, or the history
    does not reach back that far."""
    state = None
    for entry in (e for e in entries if not e.get("merged")):
        if entry["at"] > at:
            break
        state = entry.get("to")
    return None if state is None else state.get("subscribeStatus")
