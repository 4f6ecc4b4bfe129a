"""Activity filters: plain ``where`` dicts → MongoDB filters (no accountId: repositories add it)."""

from __future__ import annotations

import re
from typing import Any

from app.contacts.filters import MAX_IN_VALUES, datetime_filter
from app.db import Document
from app.errors import DomainError, ErrorCode
from app.pagination import SortKey
from app.query import all_of

_PROPERTY_KEY = re.compile(r"^(?![0-9]+$)[^.$\x00][^.\x00]{0,255}$")
TRACKING_TYPES = {
    "EM_SENDS": "message-sent",
    "EM_OPENS": "open",
    "EM_CLICKS": "click",
    "EM_BOUNCES": "bounce",
    "EM_OPTOUTS": "optout",
    "EM_FORWARDS": "forward",
    # Landing pages: system actions the pipeline records (activities:system scope).
    "P_CONTACT_OPEN": "pageview",
    "P_CONTACT_CLICK": "page-click",
    "P_CONTACT_ADD": "page-contact-add",
    "P_CONTACT_UPDATE": "page-contact-update",
}
ACTION_TRACKING_TYPES = {action: kind for kind, action in TRACKING_TYPES.items()}


def build_activity_filter(where: dict[str, Any] | None, argument: str = "where") -> Document:
    if not where:
        return {}
    query: Document = {}
    actions: list[str] = []
    if where.get("action") is not None:
        actions.append(str(where["action"]))
    actions.extend(str(a) for a in where.get("actions") or [])
    actions.extend(TRACKING_TYPES[t] for t in where.get("trackingTypes") or [])
    if actions:
        query["action"] = actions[0] if len(actions) == 1 else {"$in": sorted(set(actions))}
    if where.get("ats") is not None:
        query["ats"] = datetime_filter(where["ats"], (argument, "ats"))
    if where.get("mcID") is not None:
        query["mcID"] = str(where["mcID"])
    keys: list[str] = []
    for i, spec in enumerate(where.get("properties") or []):
        key, condition = _property_condition(spec, (argument, "properties", str(i)))
        query = all_of(query, {f"properties.{key}": condition})
        keys.append(key)
    if keys:  # values of another type than the first recorded one never match
        query["unsearchable"] = {"$nin": sorted(set(keys))}
    return query


PROPERTY_OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte")


def _property_condition(spec: dict[str, Any], path: tuple[str, ...]) -> tuple[str, Document]:
    """(key, condition on its value) for one searchable property."""
    key = spec.get("key")
    if not isinstance(key, str) or not _PROPERTY_KEY.match(key):
        raise DomainError.one(
            ErrorCode.CONTACT_ACTIVITIES_VALIDATION_ERROR, f"Invalid property key {key!r}", (*path, "key")
        )
    condition: Document = {}
    for op in PROPERTY_OPERATORS:
        if spec.get(op) is not None:
            condition["$" + op] = _scalar(spec[op], (*path, op))
    if spec.get("in") is not None:
        values = spec["in"]
        if not isinstance(values, list) or len(values) > MAX_IN_VALUES:
            raise DomainError.one(ErrorCode.CONTACT_ACTIVITIES_VALIDATION_ERROR,
                                  f"'in' takes at most {MAX_IN_VALUES} values", (*path, "in"))  # fmt: skip
        condition["$in"] = [_scalar(v, (*path, "in")) for v in values]
    if spec.get("exists") is not None:
        condition["$exists"] = bool(spec["exists"])
    if not condition:
        raise DomainError.one(
            ErrorCode.CONTACT_ACTIVITIES_VALIDATION_ERROR,
            f"Property {key!r}: give an operator (eq, ne, in, gt, gte, lt, lte, exists)",
            path,
        )
    return key, condition


def _scalar(value: Any, path: tuple[str, ...]) -> Any:
    if isinstance(value, str | int | float | bool):
        return value
    raise DomainError.one(
        ErrorCode.CONTACT_ACTIVITIES_VALIDATION_ERROR,
        f"Compare properties with a string, number or boolean, got {value!r}",
        path,
    )


def activity_sort(direction: str | None) -> SortKey:
    """Newest first unless asked otherwise; ties broken by id."""
    return SortKey("ats", descending=direction != "asc")
