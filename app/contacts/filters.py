"""Contact filters and sort orders: ``ContactFilter`` → MongoDB filters.

A ``ContactFilter`` is what ``ContactWhere.to_filter`` builds, and what an audience's
stored ``rule`` (the same conditions as a dict) becomes through ``from_dict``. Every key
is checked against the account's attribute definitions and lists, and every value
against the attribute's type, before it reaches a query: no client string ever becomes
an operator or a field path of its own choosing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.account.attributes import AttributeDefinition, AttributeType, coerce_scalar, resolve_path
from app.activities.filters import ActivityFilter
from app.db import Document
from app.errors import DomainError, ErrorCode, Problem
from app.pagination import SortKey
from app.query import COMPARISONS, MAX_IN_VALUES, TimeRange, all_of, time_condition, time_range

from .refs import normalize_email

SUBSCRIBE_STATUSES = ("none", "subscribed", "unsubscribed")
ORDERABLE = (AttributeType.STRING, AttributeType.NUMBER, AttributeType.DATE)


@dataclass(frozen=True, slots=True)
class AttributeCondition:
    """``key`` (as given: it is checked against the definitions) and its operators by their
    GraphQL names (eq ne in gt gte lt lte exists), the values not yet coerced."""

    key: Any
    operators: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ActivityRequirement:
    """A condition on a contact's activities: at least ``min_count`` activities matching
    ``match`` (in the last ``within_days``), or none of them when ``exists`` is false."""

    match: ActivityFilter
    within_days: int | None = None
    min_count: int = 1
    exists: bool = True

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any], argument: str) -> ActivityRequirement:
        days = spec.get("withinDays")
        return cls(
            match=ActivityFilter.from_dict(
                {k: v for k, v in spec.items() if k in ("action", "actions", "trackingTypes", "ats", "mcID")},
                f"{argument}.activity",
            ),
            within_days=int(days) if days is not None else None,
            min_count=int(spec.get("minCount", 1)),
            exists=bool(spec.get("exists", True)),
        )


@dataclass(frozen=True, slots=True)
class ContactFilter:
    """Which contacts: every condition given must hold."""

    attributes: tuple[AttributeCondition, ...] = ()
    in_lists: tuple[str, ...] = ()
    not_in_lists: tuple[str, ...] = ()
    email_subscribe_status: str | None = None
    email_address: str | None = None
    created_at: TimeRange | None = None
    last_modified: TimeRange | None = None
    activity: ActivityRequirement | None = None

    @classmethod
    def from_dict(cls, rule: Mapping[str, Any], argument: str) -> ContactFilter:
        """The same conditions written as a dict by their GraphQL names (a stored rule);
        ``argument`` names it in errors."""

        def times(key: str) -> TimeRange | None:
            value = rule.get(key)
            return time_range(value, (argument, key)) if value is not None else None

        email = rule.get("emailAddress")
        activity = rule.get("activity")
        return cls(
            attributes=tuple(
                AttributeCondition(a.get("key"), {k: v for k, v in a.items() if k != "key"})
                for a in rule.get("attributes") or []
            ),
            in_lists=tuple(rule.get("inLists") or ()),
            not_in_lists=tuple(rule.get("notInLists") or ()),
            email_subscribe_status=rule.get("emailSubscribeStatus"),
            email_address=str(email) if email is not None else None,
            created_at=times("createdAt"),
            last_modified=times("lastModified"),
            activity=ActivityRequirement.from_dict(activity, argument) if activity is not None else None,
        )


def _attribute_condition(
    spec: AttributeCondition, definitions: dict[str, AttributeDefinition], path: tuple[str, ...]
) -> Document:
    key, given = spec.key, spec.operators
    resolved = resolve_path(definitions, key) if isinstance(key, str) else None
    if resolved is None:
        raise DomainError.one(
            ErrorCode.CONTACTS_INVALID_SEARCH_FIELD,
            f"Unknown attribute {key!r}: define it first (accountAttributeCreate)",
            (*path, "key"),
        )
    definition, sub = resolved
    field = f"attributes.{key}"
    condition: Document = {}
    try:
        for op in ("eq", "ne", *COMPARISONS):
            if given.get(op) is None:
                continue
            if op in COMPARISONS and (definition.type not in ORDERABLE and sub is None):
                raise ValueError(
                    f"'{op}' compares strings, numbers and dates, not {definition.type.value} values"
                )
            condition["$" + op] = coerce_scalar(definition, sub, given[op])
        if given.get("in") is not None:
            values = given["in"]
            if not isinstance(values, list) or len(values) > MAX_IN_VALUES:
                raise ValueError(f"'in' takes a list of at most {MAX_IN_VALUES} values")
            condition["$in"] = [coerce_scalar(definition, sub, v) for v in values]
        if given.get("exists") is not None:
            condition["$exists"] = bool(given["exists"])
    except ValueError as exc:
        raise DomainError.one(ErrorCode.VALIDATION_ERROR, f"Attribute {key!r}: {exc}", path) from exc
    if not condition:
        raise DomainError.one(
            ErrorCode.VALIDATION_ERROR,
            f"Attribute {key!r}: give an operator (eq, ne, in, gt, gte, lt, lte, exists)",
            path,
        )
    return {field: condition}


def _list_keys(values: Any, lists: set[str], path: tuple[str, ...]) -> list[str]:
    unknown = [v for v in values if v not in lists]
    if unknown:
        raise DomainError.one(ErrorCode.VALIDATION_ERROR, f"Unknown list {unknown[0]!r}", path)
    return list(values)


def build_contact_filter(
    where: ContactFilter | None,
    definitions: dict[str, AttributeDefinition],
    lists: set[str],
    argument: str = "where",
) -> Document:
    """A MongoDB filter (without accountId: the tenant adds it) for ``where``'s conditions
    on the contact itself (its ``activity`` is ``activity_condition``'s)."""
    if where is None:
        return {}
    clauses: list[Document] = []
    problems: list[Problem] = []

    def attempt(fn: Any, *args: Any) -> None:
        try:
            clauses.append(fn(*args))
        except DomainError as exc:
            problems.extend(exc.problems)

    for i, spec in enumerate(where.attributes):
        attempt(_attribute_condition, spec, definitions, (argument, "attributes", str(i)))
    if where.in_lists:
        attempt(lambda v: {"lists": {"$all": _list_keys(v, lists, (argument, "inLists"))}}, where.in_lists)
    if where.not_in_lists:
        attempt(
            lambda v: {"lists": {"$nin": _list_keys(v, lists, (argument, "notInLists"))}}, where.not_in_lists
        )
    status = where.email_subscribe_status
    if status is not None:
        if status not in SUBSCRIBE_STATUSES:
            problems.append(
                Problem(ErrorCode.CONTACTS_INVALID_SUBSCRIBE_STATUS, f"Invalid subscribe status {status!r}",
                        (argument, "emailSubscribeStatus"))
            )  # fmt: skip
        else:
            clauses.append({"channels.email.subscribeStatus": status})
    if where.email_address is not None:
        clauses.append({"channels.email.address": normalize_email(where.email_address)})
    for field, bounds in (("createdAt", where.created_at), ("lastModified", where.last_modified)):
        if bounds is not None:
            attempt(lambda b, f=field: {f: time_condition(b, (argument, f))}, bounds)
    if problems:
        raise DomainError(problems)
    return all_of(*clauses)


@dataclass(frozen=True, slots=True)
class ContactOrder:
    """A sort order of contacts: ``field`` is createdAt, lastModified or attribute (then
    ``attribute`` names it); what ``ContactSort.to_order`` builds."""

    field: str = "createdAt"
    attribute: str | None = None
    descending: bool = False


def contact_sort(sort: ContactOrder | None, definitions: dict[str, AttributeDefinition]) -> SortKey:
    """Default: oldest first (creation order, by cID)."""
    if sort is None:
        return SortKey("_id", descending=False)
    descending, field = sort.descending, sort.field
    if field in ("createdAt", "lastModified"):
        return SortKey(field, descending)
    key = sort.attribute
    resolved = resolve_path(definitions, key) if isinstance(key, str) else None
    if resolved is None:
        raise DomainError.one(
            ErrorCode.CONTACTS_INVALID_SEARCH_FIELD,
            f"Sorting by ATTRIBUTE needs a defined attribute in 'attribute', got {key!r}",
            ("sort", "attribute"),
        )
    definition, sub = resolved
    if definition.type not in ORDERABLE and sub is None:
        raise DomainError.one(
            ErrorCode.VALIDATION_ERROR,
            f"Cannot sort by {definition.type.value} attribute {key!r}",
            ("sort", "attribute"),
        )
    return SortKey(f"attributes.{key}", descending)
