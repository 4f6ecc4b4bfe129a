"""GraphQL inputs and enums shared by several domains."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.utils.str_converters import to_camel_case

from app.scalars import JSON, DateTime


@strawberry.enum(description="Sort direction.")
class SortDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.input(description="An inclusive range of instants.")
class DateTimeRange:
    start: DateTime
    end: DateTime


@strawberry.input(description="Compare an instant: any combination of bounds, or `between`.")
class DateTimeFilter:
    lt: DateTime | None = None
    lte: DateTime | None = None
    gt: DateTime | None = None
    gte: DateTime | None = None
    between: DateTimeRange | None = None


@strawberry.input(description="A comparison of one keyed value; give one or more operators.")
class KeyedValueFilter:
    key: str
    eq: JSON | None = None
    ne: JSON | None = None
    in_: list[JSON] | None = strawberry.field(default=None, name="in")
    gt: JSON | None = None
    gte: JSON | None = None
    lt: JSON | None = None
    lte: JSON | None = None
    exists: bool | None = None


def plain(value: Any) -> Any:
    """A Strawberry input (with nested inputs, enums and lists) as plain dicts and values,
    the form the use cases take, keyed by the GraphQL names. Unset (None) fields are dropped."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [plain(v) for v in value]
    if hasattr(value, "__strawberry_definition__"):
        return {
            (f.graphql_name or to_camel_case(f.python_name)): plain(getattr(value, f.python_name))
            for f in value.__strawberry_definition__.fields
            if getattr(value, f.python_name) is not None
        }
    return value
