"""contactDelete: the contact and everything linked to it, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.account.config import AccountConfig
from app.activities import repository as activities
from app.commerce import repository as orders
from app.errors import DomainError, ErrorCode
from app.tenant import Tenant

from . import repository
from .refs import find_by_ref


@dataclass(frozen=True, slots=True)
class Deleted:
    cid: str
    activities: int
    orders: int
    cart: bool
    aliases: int


async def delete_contact(tenant: Tenant, config: AccountConfig, ref: str) -> Deleted:
    contact = await find_by_ref(tenant, config.keys, ref)
    if contact is None:
        raise DomainError.one(ErrorCode.CONTACTS_CONTACT_NOT_FOUND, "Contact not found", ("ref",))
    cid = contact["_id"]
    counts: dict[str, int] = {}

    async def erase(session: Any) -> None:
        counts["activities"] = await activities.delete_for_contact(tenant, cid, session)
        counts["orders"] = await orders.delete_for_contact(tenant, cid, session)
        counts["aliases"] = await repository.delete_aliases_of(tenant, cid, session)
        counts["contacts"] = await repository.delete_one(tenant, cid, session)

    await tenant.transaction(erase)
    if counts["contacts"] != 1:  # deleted by a concurrent request meanwhile
        raise DomainError.one(ErrorCode.CONTACTS_CONTACT_NOT_FOUND, "Contact not found", ("ref",))
    return Deleted(
        str(cid), counts["activities"], counts["orders"], bool(contact.get("cart")), counts["aliases"]
    )
