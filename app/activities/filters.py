"""Activity filters: ``ActivityFilter`` (what ``ActivityWhere.to_filter`` builds, or an
audience rule's ``activity`` dict) → MongoDB filters (no accountId: the tenant adds it)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.db import Document
from app.errors import DomainError, ErrorCode
from app.pagination import SortKey
from app.query import MAX_IN_VALUES, TimeRange, all_of, time_condition, time_range

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


@dataclass(frozen=True, slots=True)
class PropertyCondition:
    """A condition on one searchable event property: its operators as given (``eq ne in gt
    gte lt lte exists``), checked when the filter is built."""

    key: Any
    operators: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ActivityFilter:
    """Which activities: every condition given must hold. ``actions`` are action names,
    ``tracking_types`` Constant Contact's (``EM_OPENS``...); ``contact`` is a ref the use
    case resolves (the root ``activities`` and ``activityRecorded`` only)."""

    actions: tuple[str, ...] = ()
    tracking_types: tuple[str, ...] = ()
    ats: TimeRange | None = None
    mc_id: str | None = None
    properties: tuple[PropertyCondition, ...] = field(default=())
    contact: str | None = None

    @classmethod
    def from_dict(cls, where: Mapping[str, Any], argument: str) -> ActivityFilter:
        """The same conditions written as a dict by their GraphQL names (a stored rule)."""
        actions = [str(where["action"])] if where.get("action") is not None else []
        return cls(
            actions=(*actions, *(str(a) for a in where.get("actions") or [])),
            tracking_types=tuple(where.get("trackingTypes") or ()),
            ats=time_range(where["ats"], (argument, "ats")) if where.get("ats") is not None else None,
            mc_id=str(where["mcID"]) if where.get("mcID") is not None else None,
            properties=tuple(
                PropertyCondition(p.get("key"), {k: v for k, v in p.items() if k != "key"})
                for p in where.get("properties") or []
            ),
        )


def build_activity_filter(where: ActivityFilter | None, argument: str = "where") -> Document:
    if where is None:
        return {}
    query: Document = {}
    actions = [*where.actions, *(TRACKING_TYPES[t] for t in where.tracking_types)]
    if actions:
        query["action"] = actions[0] if len(actions) == 1 else {"$in": sorted(set(actions))}
    if where.ats is not None:
        query["ats"] = time_condition(where.ats, (argument, "ats"))
    if where.mc_id is not None:
        query["mcID"] = where.mc_id
    keys: list[str] = []
    for i, spec in enumerate(where.properties):
        key, condition = _property_condition(spec, (argument, "properties", str(i)))
        query = all_of(query, {f"properties.{key}": condition})
        keys.append(key)
    if keys:  # values of another type than the first recorded one never match
        query["unsearchable"] = {"$nin": sorted(set(keys))}
    return query


PROPERTY_OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte")


def _property_condition(property: PropertyCondition, path: tuple[str, ...]) -> tuple[str, Document]:
    """(key, condition on its value) for one searchable property."""
    key, spec = property.key, property.operators
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
