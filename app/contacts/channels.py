"""Channel writes (email, sms, push): addresses, subscribe status, hard bounces.

Pure functions. Rules from the reference: ``subscribeStatus`` defaults to ``none``; an
unsubscribed channel becomes subscribed only with ``forceSubscribe``; ``invalid:
false`` clears a hard bounce; an address cannot be emptied.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.errors import ErrorCode, Problem

from .refs import normalize_email

STATUSES = ("none", "subscribed", "unsubscribed")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SMS = re.compile(r"^\+?[0-9]{6,15}$")
MAX_PUSH_TOKENS = 25


@dataclass(frozen=True, slots=True)
class AddressChannelChange:
    address: str | None = None
    subscribe_status: str | None = None
    invalid: bool | None = None


@dataclass(frozen=True, slots=True)
class PushTokenChange:
    token: str
    platform: str | None = None
    subscribe_status: str | None = None
    invalid: bool | None = None


@dataclass(frozen=True, slots=True)
class ChannelChanges:
    email: AddressChannelChange | None = None
    sms: AddressChannelChange | None = None
    push: tuple[PushTokenChange, ...] | None = None


def normalize_sms(address: str) -> str:
    return re.sub(r"[\s().-]", "", address)


def apply_channels(
    current: dict[str, Any],
    changes: ChannelChanges,
    *,
    force_subscribe: bool,
    now: datetime,
    path: tuple[str, ...],
) -> tuple[dict[str, Any], list[Problem]]:
    channels = copy.deepcopy(current)
    problems: list[Problem] = []
    for name, change in (("email", changes.email), ("sms", changes.sms)):
        if change is None:
            continue
        updated, found = _address_channel(
            name, channels.get(name), change, force_subscribe=force_subscribe, now=now, path=(*path, name)
        )
        problems.extend(found)
        channels[name] = updated
    if changes.push is not None:
        push, found = _push(channels.get("push") or [], changes.push, now, (*path, "push"))
        problems.extend(found)
        channels["push"] = push
    return channels, problems


def _address_channel(
    name: str,
    current: dict[str, Any] | None,
    change: AddressChannelChange,
    *,
    force_subscribe: bool,
    now: datetime,
    path: tuple[str, ...],
) -> tuple[dict[str, Any], list[Problem]]:
    channel = dict(current or {"subscribeStatus": "none", "invalid": False})
    problems: list[Problem] = []
    if change.address is not None:
        address = normalize_email(change.address) if name == "email" else normalize_sms(change.address)
        pattern = _EMAIL if name == "email" else _SMS
        if not address:
            problems.append(
                Problem(ErrorCode.VALIDATION_ERROR, "Address cannot be empty", (*path, "address"))
            )
        elif not pattern.match(address):
            problems.append(
                Problem(
                    ErrorCode.VALIDATION_ERROR,
                    f"Invalid {name} address {change.address!r}",
                    (*path, "address"),
                )
            )
        else:
            channel["address"] = address
    elif not channel.get("address"):
        problems.append(Problem(ErrorCode.VALIDATION_ERROR, "Address cannot be empty", (*path, "address")))
    if change.subscribe_status is not None:
        problems.extend(_set_status(name, channel, change.subscribe_status, force_subscribe, now, path))
    if change.invalid is not None:
        channel["invalid"] = change.invalid
    return channel, problems


def _set_status(
    name: str, channel: dict[str, Any], status: str, force: bool, now: datetime, path: tuple[str, ...]
) -> list[Problem]:
    where = (*path, "subscribeStatus")
    if status not in STATUSES:
        return [
            Problem(ErrorCode.CONTACTS_INVALID_SUBSCRIBE_STATUS, f"Invalid subscribe status on {name}", where)
        ]
    old = channel.get("subscribeStatus", "none")
    if status == old:
        return []
    if old == "unsubscribed" and status == "subscribed" and not force:
        return [
            Problem(
                ErrorCode.CONTACTS_INVALID_SUBSCRIBE_STATUS,
                f"Invalid subscribe status on {name}: an unsubscribed channel becomes subscribed "
                "only with forceSubscribe",
                where,
            )
        ]
    channel["subscribeStatus"] = status
    if status == "subscribed":
        channel["subscribedAt"] = now
        channel.pop("unsubscribedAt", None)
        channel.pop("unsubscribeMcID", None)
    elif status == "unsubscribed":
        channel["unsubscribedAt"] = now
    return []


def _push(
    current: list[dict[str, Any]], changes: tuple[PushTokenChange, ...], now: datetime, path: tuple[str, ...]
) -> tuple[list[dict[str, Any]], list[Problem]]:
    tokens = {t["token"]: dict(t) for t in current}
    problems: list[Problem] = []
    for i, change in enumerate(changes):
        where = (*path, str(i))
        token = change.token.strip()
        if not token or len(token) > 4096:
            problems.append(
                Problem(ErrorCode.CONTACTS_PUSH_CHANNEL_VALIDATION_ERROR, "Invalid push channel", where)
            )
            continue
        entry = tokens.get(token, {"token": token, "subscribeStatus": "none", "invalid": False})
        if change.platform is not None:
            entry["platform"] = change.platform
        if change.invalid is not None:
            entry["invalid"] = change.invalid
        if change.subscribe_status is not None:
            problems.extend(_set_status("push", entry, change.subscribe_status, True, now, where))
        tokens[token] = entry
    if len(tokens) > MAX_PUSH_TOKENS:
        problems.append(
            Problem(
                ErrorCode.CONTACTS_PUSH_CHANNEL_VALIDATION_ERROR,
                f"At most {MAX_PUSH_TOKENS} push tokens",
                path,
            )
        )
    return list(tokens.values()), problems
