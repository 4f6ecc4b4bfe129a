"""Contact references: parse a ``ref`` string and find the contact it names.

Forms (DESIGN section 5): ``<24-hex cID>``, ``cID:<hex>``, ``<primary key value>``,
``<key>:<value>`` for the primary key, a secondary key, ``email`` or ``sms``.
A merged-away cID resolves to the surviving contact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bson import ObjectId

from app.account.attributes import AttributeType
from app.db import Document
from app.errors import DomainError, ErrorCode
from app.tenant import Tenant

from . import repository

_HEX24 = re.compile(r"^[0-9a-fA-F]{24}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
MAX_REF_LENGTH = 512


@dataclass(frozen=True, slots=True)
class IdentifierKeys:
    primary: str
    secondary: tuple[str, ...]
    types: dict[str, AttributeType]  # attribute type of each non-email key

    @classmethod
    def from_account(cls, account: Document, types: dict[str, AttributeType]) -> IdentifierKeys:
        return cls(account.get("primaryKey", "email"), tuple(account.get("secondaryKeys", [])), types)


@dataclass(frozen=True, slots=True)
class Lookup:
    """Which stored path to match and the value to match it with."""

    path: str
    value: Any


def _invalid(message: str, argument: str) -> DomainError:
    return DomainError.one(ErrorCode.CONTACTS_INVALID_PRIMARY_KEY, message, (argument,))


def normalize_email(address: str) -> str:
    return address.strip().lower()


def parse_ref(ref: str, keys: IdentifierKeys, argument: str = "ref") -> Lookup:
    text = ref.strip()
    if not text:
        raise _invalid("Incorrect primary key: the contact reference is empty", argument)
    if len(text) > MAX_REF_LENGTH:
        raise _invalid(f"Incorrect primary key: references are at most {MAX_REF_LENGTH} characters", argument)
    if _HEX24.match(text):
        return Lookup("_id", ObjectId(text))
    prefix, sep, value = text.partition(":")
    if not sep:
        return _key_lookup(keys.primary, text, keys, argument)
    if prefix.lower() == "cid":
        if not _HEX24.match(value):
            raise _invalid(f"Incorrect primary key: {value!r} is not a 24-hex cID", argument)
        return Lookup("_id", ObjectId(value))
    if prefix == "sms":
        if not value.strip():
            raise _invalid("Incorrect primary key: empty sms address", argument)
        return Lookup("channels.sms.address", value.strip())
    if prefix == "email" or prefix == keys.primary or prefix in keys.secondary:
        return _key_lookup(prefix, value, keys, argument)
    known = ", ".join(dict.fromkeys(["cID", keys.primary, *keys.secondary, "email", "sms"]))
    raise _invalid(f"Incorrect primary key: unknown identifier key {prefix!r} (known: {known})", argument)


def _key_lookup(key: str, value: str, keys: IdentifierKeys, argument: str) -> Lookup:
    if key == "email":
        address = normalize_email(value)
        if not _EMAIL.match(address):
            raise _invalid(f"Incorrect primary key: {value!r} is not an email address", argument)
        return Lookup("channels.email.address", address)
    if not value.strip():
        raise _invalid(f"Incorrect primary key: empty value for {key!r}", argument)
    if keys.types.get(key) is AttributeType.NUMBER:
        try:
            number = float(value)
        except ValueError:
            raise _invalid(f"Incorrect primary key: {key} takes a number, got {value!r}", argument) from None
        return Lookup(f"attributes.{key}", int(number) if number.is_integer() else number)
    return Lookup(f"attributes.{key}", value)


async def find_by_ref(tenant: Tenant, keys: IdentifierKeys, ref: str, session: Any = None) -> Document | None:
    """The contact ``ref`` names in this account, or None. Raises DomainError when malformed."""
    lookup = parse_ref(ref, keys)
    contact = await repository.find_one_by(tenant, lookup.path, lookup.value, session)
    if contact is None and lookup.path == "_id":
        survivor = await repository.find_survivor(tenant, lookup.value, session)
        if survivor is not None:
            contact = await repository.find_one_by(tenant, "_id", survivor, session)
    return contact


async def find_ids_by_refs(
    tenant: Tenant, keys: IdentifierKeys, refs: list[str]
) -> dict[str, ObjectId | DomainError | None]:
    """Many refs at once: one query per identifier kind, plus one for merged-away cIDs.
    Each ref maps to its contact's cID, None (nobody), or the DomainError of a malformed ref."""
    lookups: dict[str, Lookup | DomainError] = {}
    for ref in dict.fromkeys(refs):
        try:
            lookups[ref] = parse_ref(ref, keys)
        except DomainError as exc:
            lookups[ref] = exc
    by_path: dict[str, set[Any]] = {}
    for lookup in lookups.values():
        if isinstance(lookup, Lookup):
            by_path.setdefault(lookup.path, set()).add(lookup.value)
    found = {
        path: await repository.find_ids_by(tenant, path, list(values)) for path, values in by_path.items()
    }
    missing_ids = [v for v in by_path.get("_id", set()) if v not in found.get("_id", {})]
    survivors = await repository.find_survivors(tenant, missing_ids) if missing_ids else {}
    if survivors:
        alive = await repository.find_ids_by(tenant, "_id", list(set(survivors.values())))
        found["_id"].update({gone: s for gone, s in survivors.items() if s in alive})
    result: dict[str, ObjectId | DomainError | None] = {}
    for ref, lookup in lookups.items():
        result[ref] = lookup if isinstance(lookup, DomainError) else found[lookup.path].get(lookup.value)
    return result
