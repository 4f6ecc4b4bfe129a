"""Activity report criteria (Ongage contact_activity) compiled to MongoDB filters.

Each criterion is {fieldName, type, operator, operand[], caseSensitive, condition}.
Operands are ORed (for the negative operators != and NOT LIKE, none may match); criteria
are folded left to right with their ``condition`` (and/or). Regexes are built from
escaped operands only. Behavioral criteria (sent/opens/clicks of given messages) become
activity conditions evaluated inside the database. A ``segment`` criterion selects the
contacts of saved audiences (their keys are the operands), from a snapshot of the
audiences' rules taken when the report was created. With ``combined_as_and`` every
criterion joins with "and", whatever its own ``condition`` says.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId

from app.account.attributes import AttributeDefinition, resolve_path
from app.contacts.activity_conditions import ActivityCondition, activity_condition
from app.contacts.filters import ContactFilter, build_contact_filter
from app.db import Document
from app.errors import DomainError, ErrorCode, Problem
from app.query import all_of
from app.scalars import parse_datetime

SYSTEM_FIELDS: dict[str, tuple[str, str]] = {
    "email": ("channels.email.address", "email"),
    "sms": ("channels.sms.address", "string"),
    "id": ("_id", "id"),
    "ocx_created_date": ("createdAt", "date"),
    "ocx_status": ("channels.email.subscribeStatus", "string"),
    "ocx_unsubscribe_date": ("channels.email.unsubscribedAt", "date"),
    "ocx_resubscribe_date": ("channels.email.subscribedAt", "date"),
}
BEHAVIORS = {"sent": "message-sent", "opens": "open", "clicks": "click"}
STRING_OPERATORS = ("=", "!=", "LIKE", "NOT LIKE", "LIKE_", "_LIKE", "empty", "notempty")
NUMERIC_OPERATORS = ("<", "<=", ">", ">=", "=", "!=", "empty", "notempty", "><")
DATE_OPERATORS = ("<", "<=", ">", ">=", "=", "!=", "empty", "notempty")
OPERATORS = {
    "string": STRING_OPERATORS,
    "email": STRING_OPERATORS,
    "numeric": NUMERIC_OPERATORS,
    "id": NUMERIC_OPERATORS,
    "date": DATE_OPERATORS,
    "list": ("=", "!="),
    "behavioral": ("=", "!="),
    "segment": ("=", "!="),
}
USER_TYPES: dict[str, Document] = {
    "all": {},
    "active": {"channels.email.subscribeStatus": "subscribed", "channels.email.invalid": {"$ne": True}},
    "unsubscribed": {"channels.email.subscribeStatus": "unsubscribed"},
    "bounced": {"channels.email.invalid": True},
}
NEGATIVE = ("!=", "NOT LIKE")
MAX_CRITERIA = 100
MAX_OPERANDS = 1000
MAX_OPERAND_LENGTH = 1000  # characters of one string operand


class _Bad(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Segment:
    """A saved audience compiled: its contact filter and its activity condition, if any."""

    match: Document
    condition: ActivityCondition | None


def segment_keys(criteria: list[dict[str, Any]]) -> list[str]:
    """The audience keys the segment criteria name (to snapshot their rules)."""
    keys: list[str] = []
    for criterion in criteria:
        operands = criterion.get("operand")
        if criterion.get("type") == "segment" and isinstance(operands, list):
            keys += [o for o in operands if isinstance(o, str) and o not in keys]
    return keys


def compile_criteria(
    criteria: list[dict[str, Any]],
    definitions: dict[str, AttributeDefinition],
    lists: frozenset[str],
    window: Document | None,
    segments: Mapping[str, dict[str, Any]] | None = None,
    combined_as_and: bool = False,
) -> tuple[Document, list[ActivityCondition]]:
    """(contact filter, activity conditions); DomainError naming each bad criterion.

    ``segments`` maps audience keys to their rules (a contact ``where``)."""
    query: Document | None = None
    behaviors: list[ActivityCondition] = []
    problems: list[Problem] = []
    joined_by_or: list[int] = []
    if len(criteria) > MAX_CRITERIA:
        raise DomainError.one(
            ErrorCode.VALIDATION_ERROR,
            f"At most {MAX_CRITERIA} criteria, got {len(criteria)}",
            ("input", "filters", "criteria"),
        )
    for i, criterion in enumerate(criteria):
        path = ("input", "filters", "criteria", str(i))
        try:
            kind = criterion.get("type")
            if kind not in OPERATORS:
                raise _Bad(f"type must be one of {', '.join(OPERATORS)}")
            operator = criterion.get("operator")
            if operator not in OPERATORS[kind]:
                raise _Bad(
                    f"operator {operator!r} does not apply to {kind} fields ({', '.join(OPERATORS[kind])})"
                )
            condition = criterion.get("condition", "and")
            if condition not in ("and", "or"):
                raise _Bad("condition must be 'and' or 'or'")
            if combined_as_and:
                condition = "and"
            if kind == "behavioral":
                if condition != "and":
                    raise _Bad("behavioral criteria combine with 'and'")
                behaviors.append(_behavior(criterion, operator, window))
                continue
            if kind == "segment":
                clause, activity = _segment(criterion, operator, segments or {}, definitions, lists)
                if activity is not None:
                    behaviors.append(activity)
            else:
                clause = _clause(criterion, kind, operator, definitions, lists)
        except _Bad as exc:
            problems.append(Problem(ErrorCode.VALIDATION_ERROR, f"Criterion {i + 1}: {exc}", path))
            continue
        if condition == "or" and i > 0:
            joined_by_or.append(i)
        if query is None:
            query = clause
        elif condition == "and":
            query = all_of(query, clause)
        else:
            query = {"$or": [query, clause]}
    if behaviors and joined_by_or and not problems:
        # Activity conditions are ANDed with the whole contact filter: an "or" cannot reach them.
        problems = [
            Problem(
                ErrorCode.VALIDATION_ERROR,
                f"Criterion {i + 1}: criteria on activities (behavioral, or a segment with an activity "
                "condition) need every criterion joined with 'and'",
                ("input", "filters", "criteria", str(i), "condition"),
            )
            for i in joined_by_or
        ]
    if problems:
        raise DomainError(problems)
    return query or {}, behaviors


def _operands(criterion: dict[str, Any], operator: str) -> list[Any]:
    operands = criterion.get("operand") or []
    if not isinstance(operands, list):
        raise _Bad("operand must be a list")
    if operator in ("empty", "notempty"):
        return []
    if not operands:
        raise _Bad("give at least one operand")
    if len(operands) > MAX_OPERANDS:
        raise _Bad(f"at most {MAX_OPERANDS} operands")
    for operand in operands:
        if isinstance(operand, str) and len(operand) > MAX_OPERAND_LENGTH:
            raise _Bad(f"operands are at most {MAX_OPERAND_LENGTH} characters, got {len(operand):,}")
    return operands


def _clause(
    criterion: dict[str, Any],
    kind: str,
    operator: str,
    definitions: dict[str, AttributeDefinition],
    lists: frozenset[str],
) -> Document:
    operands = _operands(criterion, operator)
    if kind == "list":
        unknown = [o for o in operands if o not in lists]
        if unknown:
            raise _Bad(f"unknown list {unknown[0]!r}")
        return {"lists": {"$in" if operator == "=" else "$nin": operands}}
    name = criterion.get("fieldName")
    if not isinstance(name, str):
        raise _Bad("fieldName is required")
    if name in SYSTEM_FIELDS:
        field = SYSTEM_FIELDS[name][0]
    elif resolve_path(definitions, name) is not None:
        field = f"attributes.{name}"
    else:
        raise _Bad(f"unknown field {name!r}")
    if operator == "empty":
        return {"$or": [{field: {"$exists": False}}, {field: None}, {field: ""}]}
    if operator == "notempty":
        return {field: {"$exists": True, "$nin": [None, ""]}}
    if kind in ("string", "email"):
        sensitive = bool(criterion.get("caseSensitive"))
        conditions = [_string(field, operator, str(o), sensitive) for o in operands]
    elif kind == "date":
        conditions = [_date(field, operator, o) for o in operands]
    else:
        convert = _object_id if kind == "id" else _number
        if operator == "><":
            if len(operands) != 2:
                raise _Bad("the range operator >< takes two operands")
            low, high = sorted((convert(operands[0]), convert(operands[1])))
            return {field: {"$gte": low, "$lte": high}}
        op = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "=": "$eq", "!=": "$ne"}[operator]
        conditions = [{field: {op: convert(o)}} for o in operands]
    if len(conditions) == 1:
        return conditions[0]
    return {"$and": conditions} if operator in NEGATIVE else {"$or": conditions}


def _segment(
    criterion: dict[str, Any],
    operator: str,
    segments: Mapping[str, dict[str, Any]],
    definitions: dict[str, AttributeDefinition],
    lists: frozenset[str],
) -> tuple[Document, ActivityCondition | None]:
    """Contacts in any of the audiences (=), or in none of them (!=)."""
    compiled: list[Segment] = []
    for key in _operands(criterion, operator):
        if not isinstance(key, str) or key not in segments:
            raise _Bad(f"unknown segment {key!r} (segments are audience keys)")
        try:
            rule = ContactFilter.from_dict(segments[key], "audience")
            match = build_contact_filter(rule, definitions, set(lists), argument="audience")
            compiled.append(Segment(match, activity_condition(rule.activity, argument="audience")))
        except DomainError as exc:
            raise _Bad(f"segment {key!r}: {exc.problems[0].message}") from None
    with_activity = [s for s in compiled if s.condition is not None]
    if not with_activity:
        matches = [s.match for s in compiled]
        if operator == "=":
            return (matches[0] if len(matches) == 1 else {"$or": matches}), None
        return {"$nor": matches}, None
    # An activity condition is evaluated apart from the contact filter: it cannot be ORed
    # with another audience, and its negation is exact only when it stands alone.
    if len(compiled) > 1:
        raise _Bad("a segment whose audience has an activity condition is given alone")
    segment, condition = compiled[0], with_activity[0].condition
    assert condition is not None
    if operator == "=":
        return segment.match, condition
    if segment.match or condition.min_count != 1:
        raise _Bad("!= applies to audiences with only an activity condition (minCount 1) or none")
    return {}, ActivityCondition(condition.match, 1, not condition.exists)


def _string(field: str, operator: str, operand: str, sensitive: bool) -> Document:
    escaped = re.escape(operand)
    pattern = {
        "=": f"^{escaped}$",
        "!=": f"^{escaped}$",
        "LIKE": escaped,
        "NOT LIKE": escaped,
        "LIKE_": f"^{escaped}",
        "_LIKE": f"{escaped}$",
    }[operator]
    regex: Document = {"$regex": pattern, "$options": "" if sensitive else "i"}
    if operator in NEGATIVE:
        return {field: {"$not": regex}}
    if operator == "=" and sensitive:
        return {field: operand}
    return {field: regex}


def _number(value: Any) -> float | int:
    if isinstance(value, bool):
        raise _Bad(f"{value!r} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _Bad(f"{value!r} is not a number") from None
    return int(number) if number.is_integer() else number


def _object_id(value: Any) -> ObjectId:
    try:
        return ObjectId(str(value))
    except InvalidId:
        raise _Bad(f"{value!r} is not a contact id") from None


def day_of(value: Any) -> datetime:
    """An operand (ISO date/time or a unix timestamp) as the start of its UTC day."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            moment = datetime.fromtimestamp(value, tz=parse_datetime("1970-01-01").tzinfo)
        else:
            moment = parse_datetime(str(value))
    except (ValueError, OverflowError, OSError):
        raise _Bad(f"{value!r} is not a date") from None
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _date(field: str, operator: str, operand: Any) -> Document:
    day = day_of(operand)
    next_day = day + timedelta(days=1)
    conditions: dict[str, Document] = {
        "<": {field: {"$lt": day}},
        "<=": {field: {"$lt": next_day}},
        ">": {field: {"$gte": next_day}},
        ">=": {field: {"$gte": day}},
        "=": {field: {"$gte": day, "$lt": next_day}},
        "!=": {"$or": [{field: {"$lt": day}}, {field: {"$gte": next_day}}, {field: None}]},
    }
    return conditions[operator]


def _behavior(criterion: dict[str, Any], operator: str, window: Document | None) -> ActivityCondition:
    name = criterion.get("fieldName")
    if name not in BEHAVIORS:
        raise _Bad(f"behavioral fieldName must be one of {', '.join(BEHAVIORS)}")
    operand = criterion.get("operand")
    ids = operand.get("mailing_ids") if isinstance(operand, dict) else operand
    match: Document = {"action": BEHAVIORS[name]}
    if ids:
        match["messageId"] = {"$in": [ObjectId(i) if ObjectId.is_valid(str(i)) else str(i) for i in ids]}
    if window:
        match["ats"] = window
    return ActivityCondition(match=match, min_count=1, exists=operator == "=")
