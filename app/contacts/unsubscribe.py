"""contactUnsubscribe: a channel becomes UNSUBSCRIBED, attributed to a message by mcID,
and a reserved ``optout`` activity is recorded, in one transaction. A second
unsubscribe changes nothing and records nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId

from app.account.config import AccountConfig
from app.activities import repository as activities
from app.activities.retention import expire_at
from app.db import Document
from app.errors import DomainError, ErrorCode
from app.tenant import Tenant

from . import repository
from .consent import ConsentSource, with_consent_history
from .refs import find_by_ref
from .writes import mutate_contact

CHANNELS = ("email", "sms", "push")


async def unsubscribe_contact(
    tenant: Tenant,
    config: AccountConfig,
    ref: str,
    channel: str,
    mc_id: str | None,
    source: ConsentSource | None = None,
) -> tuple[Document, bool]:
    """Returns the contact and whether anything changed."""
    if channel not in CHANNELS:
        raise DomainError.one(
            ErrorCode.CONTACTS_CHANNEL_KEY_NOT_FOUND, f"Channel {channel} not found", ("channel",)
        )
    contact = await find_by_ref(tenant, config.keys, ref)
    if contact is None:
        raise DomainError.one(ErrorCode.CONTACTS_CONTACT_NOT_FOUND, "Contact not found", ("ref",))
    if mc_id is not None and not await activities.contact_has_mcid(tenant, contact["_id"], mc_id):
        raise DomainError.one(
            ErrorCode.CONTACTS_INVALID_MCID_FOR_THIS_CONTACT, "mcID doesn't belong to this contact", ("mcID",)
        )

    def change(current: Document, now: datetime) -> Document:
        updated = _unsubscribe(current, now)
        return with_consent_history(current, updated, source, now, mc_id=mc_id)

    def _unsubscribe(current: Document, now: datetime) -> Document:
        channels = current.get("channels") or {}
        if channel == "push":
            tokens = channels.get("push") or []
            if not tokens:
                raise _no_channel(channel)
            if all(t.get("subscribeStatus") == "unsubscribed" for t in tokens):
                return current
            updated = {
                **current,
                "channels": {**channels, "push": [_unsubscribed(t, now, mc_id) for t in tokens]},
            }
            return updated
        entry = channels.get(channel)
        if not entry or not entry.get("address"):
            raise _no_channel(channel)
        if entry.get("subscribeStatus") == "unsubscribed":
            return current
        return {**current, "channels": {**channels, channel: _unsubscribed(entry, now, mc_id)}}

    async def store(updated: Document, version: int) -> bool:
        stored = False

        async def write(session: Any) -> None:
            nonlocal stored
            stored = await repository.replace_if_version(tenant, updated, version, session)
            if stored:
                ats: datetime = updated["lastModified"]
                optout: Document = {
                    "_id": ObjectId(),
                    "cID": updated["_id"],
                    "action": "optout",
                    "ats": ats,
                    "channel": channel,
                    "properties": {},
                    "expireAt": expire_at(ats),
                }
                if mc_id is not None:
                    optout["mcID"] = mc_id
                await activities.insert_one(tenant, optout, session)

        await tenant.transaction(write)
        return stored

    before, after = await mutate_contact(
        tenant, config, str(contact["_id"]), change, path=("channel",), store=store
    )
    return after, before is not after


def _unsubscribed(entry: dict[str, Any], now: datetime, mc_id: str | None) -> dict[str, Any]:
    updated = {**entry, "subscribeStatus": "unsubscribed", "unsubscribedAt": now}
    if mc_id is not None:
        updated["unsubscribeMcID"] = mc_id
    return updated


def _no_channel(channel: str) -> DomainError:
    return DomainError.one(
        ErrorCode.CONTACTS_CHANNEL_KEY_NOT_FOUND, f"Channel {channel} not found", ("channel",)
    )
