"""Attribute definitions: the model, creating one, and checking values against it.

Plain Python (no Strawberry): used by the account mutations, contact filters and,
later, contact writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from app.db import Document
from app.errors import DomainError, ErrorCode, Problem
from app.scalars import parse_datetime
from app.tenant import Tenant

from . import repository
from .patterns import PatternError, compile_pattern

KEY_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
# Names the API itself uses for a contact: an attribute or list may not take them.
RESERVED_KEYS = frozenset(
    {"id", "_id", "cID", "email", "sms", "push", "channels", "lists", "cart", "orders",
     "attributes", "supplements", "forceSubscribe", "suppressTriggers", "createdAt",
     "lastModified", "version", "accountId"}
)  # fmt: skip
GEO_FIELDS = frozenset({"street_address", "street_address2", "city", "state", "postal_code", "country", "tz"})
GEO_LOC_FIELDS = frozenset({"lat", "lon"})
DEFAULT_MAX_ITEMS = 25
MAX_ITEMS_LIMIT = 1000


class AttributeType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    DATE = "date"
    GEO = "geo"
    ARRAY = "array"


@dataclass(frozen=True, slots=True)
class Validators:
    required: bool = False
    pattern: str | None = None
    min: float | None = None
    max: float | None = None
    enum: tuple[str, ...] | None = None

    def to_doc(self) -> Document:
        return {
            "required": self.required,
            "pattern": self.pattern,
            "min": self.min,
            "max": self.max,
            "enum": list(self.enum) if self.enum is not None else None,
        }


@dataclass(frozen=True, slots=True)
class AttributeDefinition:
    key: str
    name: str
    type: AttributeType
    max_items: int | None = None
    validators: Validators = field(default_factory=Validators)

    @classmethod
    def from_doc(cls, doc: Document) -> AttributeDefinition:
        v = doc.get("validators") or {}
        return cls(
            key=doc["key"],
            name=doc.get("name") or doc["key"],
            type=AttributeType(doc["type"]),
            max_items=doc.get("maxItems"),
            validators=Validators(
                required=bool(v.get("required", False)),
                pattern=v.get("pattern"),
                min=v.get("min"),
                max=v.get("max"),
                enum=tuple(v["enum"]) if v.get("enum") is not None else None,
            ),
        )

    def to_doc(self) -> Document:
        return {
            "key": self.key,
            "name": self.name,
            "type": self.type.value,
            "maxItems": self.max_items,
            "validators": self.validators.to_doc(),
        }


def check_key(key: str, field_path: tuple[str, ...]) -> list[Problem]:
    if not KEY_PATTERN.match(key):
        return [
            Problem(
                ErrorCode.VALIDATION_ERROR,
                f"Invalid key {key!r}: 1-64 letters, digits, '_' or '-', starting with a letter",
                field_path,
            )
        ]
    if key in RESERVED_KEYS:
        return [Problem(ErrorCode.VALIDATION_ERROR, f"Key {key!r} is reserved", field_path)]
    return []


def _definition_problems(d: AttributeDefinition) -> list[Problem]:
    where = ("input",)
    problems = check_key(d.key, (*where, "key"))
    v = d.validators
    vpath = (*where, "validators")
    if d.type is AttributeType.ARRAY:
        if d.max_items is not None and not 1 <= d.max_items <= MAX_ITEMS_LIMIT:
            problems.append(
                Problem(
                    ErrorCode.VALIDATION_ERROR,
                    f"maxItems must be between 1 and {MAX_ITEMS_LIMIT}",
                    (*where, "maxItems"),
                )
            )
    elif d.max_items is not None:
        problems.append(
            Problem(
                ErrorCode.VALIDATION_ERROR, "maxItems applies to array attributes only", (*where, "maxItems")
            )
        )
    if v.pattern is not None:
        if d.type not in (AttributeType.STRING, AttributeType.ARRAY):
            problems.append(
                Problem(
                    ErrorCode.VALIDATION_ERROR,
                    "pattern applies to string and array attributes",
                    (*vpath, "pattern"),
                )
            )
        else:
            try:
                compile_pattern(v.pattern)
            except PatternError as exc:
                problems.append(
                    Problem(ErrorCode.VALIDATION_ERROR, f"Invalid pattern: {exc}", (*vpath, "pattern"))
                )
    if (v.min is not None or v.max is not None) and d.type not in (
        AttributeType.NUMBER,
        AttributeType.STRING,
    ):
        problems.append(
            Problem(
                ErrorCode.VALIDATION_ERROR,
                "min/max apply to numbers (value) and strings (length)",
                (*vpath, "min"),
            )
        )
    if v.min is not None and v.max is not None and v.min > v.max:
        problems.append(Problem(ErrorCode.VALIDATION_ERROR, "min is greater than max", (*vpath, "min")))
    if v.enum is not None and d.type not in (AttributeType.STRING, AttributeType.ARRAY):
        problems.append(
            Problem(
                ErrorCode.VALIDATION_ERROR, "enum applies to string and array attributes", (*vpath, "enum")
            )
        )
    return problems


async def create_attribute(tenant: Tenant, definition: AttributeDefinition) -> AttributeDefinition:
    problems = _definition_problems(definition)
    if problems:
        raise DomainError(problems)
    if definition.type is AttributeType.ARRAY and definition.max_items is None:
        definition = AttributeDefinition(
            definition.key, definition.name, definition.type, DEFAULT_MAX_ITEMS, definition.validators
        )
    taken_by = await repository.key_in_use(tenant, definition.key)
    if taken_by == "list":
        raise DomainError.one(
            ErrorCode.VALIDATION_ERROR, f"Key {definition.key!r} is already a list key", ("input", "key")
        )
    if taken_by or not await repository.insert_attribute_definition(tenant, definition.to_doc()):
        raise DomainError.one(
            ErrorCode.ACCOUNT_ATTRIBUTE_EXISTS,
            f"Attribute {definition.key!r} already exists",
            ("input", "key"),
        )
    return definition


async def load_definitions(tenant: Tenant) -> dict[str, AttributeDefinition]:
    docs = await repository.list_attribute_definitions(tenant)
    return {d["key"]: AttributeDefinition.from_doc(d) for d in docs}


# -- values -------------------------------------------------------------------------


def resolve_path(
    definitions: dict[str, AttributeDefinition], path: str
) -> tuple[AttributeDefinition, str | None] | None:
    """``age`` → (age, None); ``location.city`` / ``location.loc.lat`` → (location, subfield)."""
    key, _, sub = path.partition(".")
    definition = definitions.get(key)
    if definition is None:
        return None
    if not sub:
        return definition, None
    if definition.type is not AttributeType.GEO:
        return None
    if sub in GEO_FIELDS or (sub.startswith("loc.") and sub[4:] in GEO_LOC_FIELDS):
        return definition, sub
    return None


def coerce_scalar(definition: AttributeDefinition, sub: str | None, value: Any) -> Any:
    """A single comparable value for ``definition`` (or its geo ``sub`` field). Raises ValueError."""
    if definition.type is AttributeType.GEO:
        if sub is None:
            raise ValueError(f"compare a geo attribute by sub-field, e.g. '{definition.key}.city'")
        if sub.startswith("loc."):
            return _number(value)
        return _string(value)
    if definition.type is AttributeType.NUMBER:
        return _number(value)
    if definition.type is AttributeType.DATE:
        return _date(value)
    if definition.type is AttributeType.ARRAY:
        if isinstance(value, str):
            return value
        return _number(value)
    return _string(value)


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    return value


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    return value


def _date(value: Any) -> datetime:
    if not isinstance(value, str | datetime):
        raise ValueError(f"expected an ISO 8601 date, got {value!r}")
    return parse_datetime(value)
