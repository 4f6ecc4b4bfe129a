"""Contact filters and sort orders: plain ``where`` dicts → MongoDB filters.

The same dict shape is the GraphQL ``ContactWhere`` input and an audience's stored
``rule``. Every key is checked against the account's attribute definitions and
lists, and every value against the attribute's type, before it reaches a query:
no client string ever becomes an operator or a field path of its own choosing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.account.attributes import AttributeDefinition, AttributeType, coerce_scalar, resolve_path
from app.db import Document
from app.errors import DomainError, ErrorCode, Problem
from app.pagination import SortKey
from app.query import TimeRange, all_of
from app.scalars import parse_datetime

from .refs import normalize_email

COMPARISONS = ("gt", "gte", "lt", "lte")
MAX_IN_VALUES = 1000
SUBSCRIBE_STATUSES = ("none", "subscribed", "unsubscribed")
ORDERABLE = (AttributeType.STRING, AttributeType.NUMBER, AttributeType.DATE)


def time_range(value: dict[str, Any], path: tuple[str, ...]) -> TimeRange:
    """``{lt lte gt gte between{start end}}`` written as a dict (a stored rule) as a
    TimeRange; ``between`` is inclusive."""
    try:
        bounds = {op: parse_datetime(value[op]) for op in COMPARISONS if value.get(op) is not None}
        between = value.get("between")
        if between is not None:
            bounds |= {"gte": parse_datetime(between["start"]), "lte": parse_datetime(between["end"])}
    except (ValueError, KeyError, TypeError) as exc:
        raise DomainError.one(ErrorCode.VALIDATION_ERROR, f"Invalid date-time filter: {exc}", path) from exc
    return TimeRange(**bounds)


def time_condition(bounds: TimeRange, path: tuple[str, ...]) -> Document:
    """``{$lt: …}`` for a range that gives at least one bound."""
    out = bounds.condition()
    if not out:
        raise DomainError.one(
            ErrorCode.VALIDATION_ERROR, "Give at least one of lt, lte, gt, gte, between", path
        )
    return out


def datetime_filter(value: dict[str, Any], path: tuple[str, ...]) -> Document:
    """A dict's time range as a condition: ``{lt lte gt gte between}`` → ``{$lt: …}``."""
    return time_condition(time_range(value, path), path)


def _attribute_condition(
    spec: dict[str, Any], definitions: dict[str, AttributeDefinition], path: tuple[str, ...]
) -> Document:
    key = spec.get("key")
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
            if op not in spec or spec[op] is None:
                continue
            if op in COMPARISONS and (definition.type not in ORDERABLE and sub is None):
                raise ValueError(
                    f"'{op}' compares strings, numbers and dates, not {definition.type.value} values"
                )
            condition["$" + op] = coerce_scalar(definition, sub, spec[op])
        if spec.get("in") is not None:
            values = spec["in"]
            if not isinstance(values, list) or len(values) > MAX_IN_VALUES:
                raise ValueError(f"'in' takes a list of at most {MAX_IN_VALUES} values")
            condition["$in"] = [coerce_scalar(definition, sub, v) for v in values]
        if spec.get("exists") is not None:
            condition["$exists"] = bool(spec["exists"])
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
    where: dict[str, Any] | None,
    definitions: dict[str, AttributeDefinition],
    lists: set[str],
    argument: str = "where",
) -> Document:
    """A MongoDB filter (without accountId: the repository adds it) for ``where``."""
    if not where:
        return {}
    clauses: list[Document] = []
    problems: list[Problem] = []

    def attempt(fn: Any, *args: Any) -> None:
        try:
            clauses.append(fn(*args))
        except DomainError as exc:
            problems.extend(exc.problems)

    for i, spec in enumerate(where.get("attributes") or []):
        attempt(_attribute_condition, spec, definitions, (argument, "attributes", str(i)))
    if where.get("inLists"):
        attempt(lambda v: {"lists": {"$all": _list_keys(v, lists, (argument, "inLists"))}}, where["inLists"])
    if where.get("notInLists"):
        attempt(
            lambda v: {"lists": {"$nin": _list_keys(v, lists, (argument, "notInLists"))}}, where["notInLists"]
        )
    status = where.get("emailSubscribeStatus")
    if status is not None:
        if status not in SUBSCRIBE_STATUSES:
            problems.append(
                Problem(ErrorCode.CONTACTS_INVALID_SUBSCRIBE_STATUS, f"Invalid subscribe status {status!r}",
                        (argument, "emailSubscribeStatus"))
            )  # fmt: skip
        else:
            clauses.append({"channels.email.subscribeStatus": status})
    if where.get("emailAddress") is not None:
        clauses.append({"channels.email.address": normalize_email(str(where["emailAddress"]))})
    for field in ("createdAt", "lastModified"):
        if where.get(field) is not None:
            attempt(lambda v, f=field: {f: datetime_filter(v, (argument, f))}, where[field])
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
