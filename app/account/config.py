"""What a contact write needs to know about its account, loaded once per request."""

from __future__ import annotations

from dataclasses import dataclass

from app.contacts.refs import IdentifierKeys
from app.tenant import Tenant

from . import repository
from .attributes import AttributeDefinition, load_definitions


@dataclass(frozen=True, slots=True)
class AccountConfig:
    keys: IdentifierKeys
    definitions: dict[str, AttributeDefinition]
    lists: frozenset[str]


async def load_account_config(tenant: Tenant) -> AccountConfig:
    account = await repository.get_account(tenant) or {}
    definitions = await load_definitions(tenant)
    lists = frozenset(d["key"] for d in await repository.list_lists(tenant))
    types = {k: d.type for k, d in definitions.items()}
    return AccountConfig(IdentifierKeys.from_account(account, types), definitions, lists)
