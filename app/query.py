"""MongoDB filter shapes (plain dicts), chosen for what both engines' planners serve.

MongoDB normalises ``{$and: [{a: 1}, {b: 2}]}`` into ``{a: 1, b: 2}`` before planning; the
embedded engine does not: a filter with a top-level ``$and`` or ``$or`` is never served
from an index there (it scans the whole collection, every account included). ``all_of``
writes a conjunction flat whenever it can, which costs MongoDB nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.errors import DomainError, ErrorCode
from app.scalars import parse_datetime

Filter = dict[str, Any]
COMPARISONS = ("gt", "gte", "lt", "lte")
MAX_IN_VALUES = 1000


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Bounds on an instant, any combination of them (an inclusive ``between`` is ``gte`` and
    ``lte``): what the ``DateTimeFilter`` input becomes (``DateTimeFilter.to_filter``)."""

    lt: datetime | None = None
    lte: datetime | None = None
    gt: datetime | None = None
    gte: datetime | None = None

    def condition(self) -> Filter:
        """``{$lt: …, $gte: …}``: the bounds given (empty when none is)."""
        bounds = (("$lt", self.lt), ("$lte", self.lte), ("$gt", self.gt), ("$gte", self.gte))
        return {op: value for op, value in bounds if value is not None}


def time_range(value: Mapping[str, Any], path: tuple[str, ...]) -> TimeRange:
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


def time_condition(bounds: TimeRange, path: tuple[str, ...]) -> Filter:
    """``{$lt: …}`` for a range that gives at least one bound."""
    out = bounds.condition()
    if not out:
        raise DomainError.one(
            ErrorCode.VALIDATION_ERROR, "Give at least one of lt, lte, gt, gte, between", path
        )
    return out


def _operators(value: Any) -> bool:
    return isinstance(value, Mapping) and bool(value) and all(str(k).startswith("$") for k in value)


def all_of(*clauses: Mapping[str, Any] | None) -> Filter:
    """The conjunction of ``clauses`` as one filter: fields merged into one document (and
    the operators of one field into one operator document) where no two clauses say
    something about the same thing; only what collides is left in a ``$and``."""
    merged: Filter = {}
    rest: list[Filter] = []
    for clause in clauses:
        if clause:
            _add_clause(clause, merged, rest)
    if rest:
        merged["$and"] = rest
    return merged


def _add_clause(clause: Mapping[str, Any], merged: Filter, rest: list[Filter]) -> None:
    # A module function, not a closure calling itself: that would be a reference cycle
    # (left to the cycle collector) on every filter built.
    for key, value in clause.items():
        if key == "$and":
            for inner in value:
                _add_clause(inner, merged, rest)
        elif key not in merged:
            merged[key] = value
        elif _operators(merged[key]) and _operators(value) and not set(merged[key]) & set(value):
            merged[key] = {**merged[key], **value}
        else:
            rest.append({key: value})
