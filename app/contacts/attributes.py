"""Attribute writes: check each change against its definition and apply it.

Pure functions over plain values (no database, no Strawberry). The reference rules:
values must match a defined attribute, its type and validators (new writes only);
numbers accept ``inc``; arrays are replaced, or ``add`` / ``remove``, keeping at most
``maxItems`` by dropping the oldest; geo attributes update partially, by sub-field
(``location.postal_code``) or with an object.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from app.account.attributes import (
    DEFAULT_MAX_ITEMS,
    GEO_FIELDS,
    GEO_LOC_FIELDS,
    AttributeDefinition,
    AttributeType,
)
from app.account.patterns import PatternError, matches
from app.errors import ErrorCode, Problem
from app.scalars import parse_datetime
from app.sizes import MAX_STRING_LENGTH

OPERATIONS = ("value", "inc", "add", "remove", "unset")


@dataclass(frozen=True, slots=True)
class AttributeChange:
    """One requested change: ``key`` (``location.city`` for a geo sub-field) and exactly one
    of: a new ``value``, ``inc`` (numbers), ``add`` / ``remove`` (arrays), ``unset``."""

    key: str
    value: Any = None
    inc: float | None = None
    add: list[Any] | None = None
    remove: list[Any] | None = None
    unset: bool = False

    @property
    def operations(self) -> list[str]:
        given = {"value": self.value is not None, "inc": self.inc is not None, "add": self.add is not None,
                 "remove": self.remove is not None, "unset": self.unset}  # fmt: skip
        return [op for op in OPERATIONS if given[op]]


class _Invalid(ValueError):
    pass


def apply_changes(
    current: dict[str, Any],
    changes: list[AttributeChange],
    definitions: dict[str, AttributeDefinition],
    path: tuple[str, ...],
) -> tuple[dict[str, Any], list[Problem]]:
    """The attributes after ``changes``, or every problem found (then nothing applies)."""
    result = copy.deepcopy(current)
    problems: list[Problem] = []
    for i, change in enumerate(changes):
        where = (*path, str(i))
        try:
            _apply(result, change, definitions)
        except _Invalid as exc:
            problems.append(Problem(ErrorCode.VALIDATION_ERROR, f"{change.key}: {exc}", where))
    return result, problems


def missing_required(attributes: dict[str, Any], definitions: dict[str, AttributeDefinition]) -> list[str]:
    return [k for k, d in definitions.items() if d.validators.required and attributes.get(k) is None]


def _apply(
    attributes: dict[str, Any], change: AttributeChange, definitions: dict[str, AttributeDefinition]
) -> None:
    key, _, sub = change.key.partition(".")
    definition = definitions.get(key)
    if definition is None:
        raise _Invalid("unknown attribute: define it first (accountAttributeCreate)")
    ops = change.operations
    if len(ops) != 1:
        raise _Invalid(f"give exactly one of {', '.join(OPERATIONS)}")
    op = ops[0]
    if sub and definition.type is not AttributeType.GEO:
        raise _Invalid(f"only geo attributes have sub-fields ({definition.type.value} attribute)")
    if op == "unset":
        if definition.validators.required and not sub:
            raise _Invalid("is required and cannot be unset")
        if sub:
            (attributes.get(key) or {}).pop(sub, None)
        else:
            attributes.pop(key, None)
        return
    if definition.type is AttributeType.GEO:
        if op != "value":
            raise _Invalid(f"'{op}' does not apply to geo attributes")
        attributes[key] = _merge_geo(attributes.get(key), sub, change.value)
        return
    if op == "inc":
        if definition.type is not AttributeType.NUMBER:
            raise _Invalid("'inc' applies to number attributes")
        base = attributes.get(key)
        base = base if isinstance(base, int | float) and not isinstance(base, bool) else 0
        attributes[key] = _check_number(definition, _tidy(base + (change.inc or 0)))
        return
    if op in ("add", "remove"):
        if definition.type is not AttributeType.ARRAY:
            raise _Invalid(f"'{op}' applies to array attributes")
        existing = attributes.get(key)
        items = list(existing) if isinstance(existing, list) else []
        given = [_check_item(definition, v) for v in (change.add or change.remove or [])]
        if op == "add":
            items = [v for v in items if v not in given] + given  # re-adding makes a value newest
        else:
            items = [v for v in items if v not in given]
        attributes[key] = _keep_newest(definition, items)
        return
    attributes[key] = _coerce(definition, change.value)


def _coerce(definition: AttributeDefinition, value: Any) -> Any:
    kind = definition.type
    if kind is AttributeType.STRING:
        if not isinstance(value, str):
            raise _Invalid(f"expected a string, got {value!r}")
        return _check_string(definition, value)
    if kind is AttributeType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Invalid(f"expected a number, got {value!r}")
        return _check_number(definition, value)
    if kind is AttributeType.DATE:
        if not isinstance(value, str):
            raise _Invalid(f"expected an ISO 8601 date, got {value!r}")
        try:
            return parse_datetime(value)
        except ValueError as exc:
            raise _Invalid(str(exc)) from exc
    if not isinstance(value, list):
        raise _Invalid(f"expected an array, got {value!r}")
    items: list[Any] = []
    for v in value:
        item = _check_item(definition, v)
        if item not in items:
            items.append(item)
    return _keep_newest(definition, items)


def _check_string(definition: AttributeDefinition, value: str) -> str:
    v = definition.validators
    if len(value) > MAX_STRING_LENGTH:
        raise _Invalid(f"strings are at most {MAX_STRING_LENGTH:,} characters, got {len(value):,}")
    if v.pattern is not None:
        try:
            matched = matches(v.pattern, value)
        except PatternError as exc:  # stored before patterns were checked with RE2
            raise _Invalid(f"the attribute's pattern cannot be used ({exc}): redefine it") from None
        if not matched:
            raise _Invalid(f"{_shown(value)} does not match the pattern {v.pattern!r}")
    if v.enum is not None and value not in v.enum:
        raise _Invalid(f"{_shown(value)} is not one of {list(v.enum)}")
    if definition.type is AttributeType.STRING:
        if v.min is not None and len(value) < v.min:
            raise _Invalid(f"must be at least {v.min:g} characters")
        if v.max is not None and len(value) > v.max:
            raise _Invalid(f"must be at most {v.max:g} characters")
    return value


def _shown(value: str) -> str:
    """A value as an error message quotes it: long ones cut short."""
    return repr(value) if len(value) <= 80 else repr(value[:77] + "...")


def _check_number(definition: AttributeDefinition, value: int | float) -> int | float:
    v = definition.validators
    if v.min is not None and value < v.min:
        raise _Invalid(f"{value:g} is below the minimum {v.min:g}")
    if v.max is not None and value > v.max:
        raise _Invalid(f"{value:g} is above the maximum {v.max:g}")
    return value


def _check_item(definition: AttributeDefinition, value: Any) -> str | int | float:
    if isinstance(value, str):
        return _check_string(definition, value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise _Invalid(f"array items are strings or numbers, got {value!r}")


def _keep_newest(definition: AttributeDefinition, items: list[Any]) -> list[Any]:
    limit = definition.max_items or DEFAULT_MAX_ITEMS
    return items[-limit:]


def _tidy(number: float) -> int | float:
    return int(number) if isinstance(number, float) and number.is_integer() else number


def _merge_geo(current: Any, sub: str, value: Any) -> dict[str, Any]:
    geo: dict[str, Any] = dict(current) if isinstance(current, dict) else {}
    if sub:
        updates = {sub: value}
    elif isinstance(value, dict):
        updates = value
    else:
        raise _Invalid(f"expected an object of {sorted(GEO_FIELDS | {'loc'})}, got {value!r}")
    for field, item in updates.items():
        if field == "loc" or field.startswith("loc."):
            loc = dict(geo.get("loc") or {})
            parts = {field[4:]: item} if field.startswith("loc.") else item
            if not isinstance(parts, dict) or not set(parts) <= GEO_LOC_FIELDS:
                raise _Invalid("loc takes {lat, lon}")
            for name, number in parts.items():
                if isinstance(number, bool) or not isinstance(number, int | float):
                    raise _Invalid(f"loc.{name} must be a number")
            loc.update(parts)
            _check_coordinates(loc)
            geo["loc"] = loc
        elif field in GEO_FIELDS:
            if item is not None and not isinstance(item, str):
                raise _Invalid(f"{field} must be a string")
            if item is None:
                geo.pop(field, None)
            else:
                geo[field] = item
        else:
            raise _Invalid(f"unknown geo field {field!r}: use {sorted(GEO_FIELDS | {'loc'})}")
    return geo


def _check_coordinates(loc: dict[str, Any]) -> None:
    if "lat" in loc and not -90 <= loc["lat"] <= 90:
        raise _Invalid("loc.lat must be between -90 and 90")
    if "lon" in loc and not -180 <= loc["lon"] <= 180:
        raise _Invalid("loc.lon must be between -180 and 180")
