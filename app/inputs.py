"""GraphQL inputs and enums shared by several domains."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry
from strawberry.utils.str_converters import to_camel_case

from app.query import TimeRange
from app.scalars import JSON, DateTime

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Data = TypeVar("Data", bound="DataclassInstance")


def copy_into(data_type: type[Data], source: Any, **given: Any) -> Data:
    """A use case's value (the dataclass ``data_type``) from a GraphQL input: each of its
    fields not ``given`` is the input's attribute of the same name, as it is (a field the
    input lacks keeps its default)."""
    names = (f.name for f in dataclasses.fields(data_type) if f.init and f.name not in given)
    return data_type(**{n: getattr(source, n) for n in names if hasattr(source, n)}, **given)


@strawberry.enum(description="Sort direction.")
class SortDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.input(description="An inclusive range of instants.")
class DateTimeRange:
    start: DateTime = strawberry.field(description="The first instant included.")
    end: DateTime = strawberry.field(description="The last instant included.")


@strawberry.input(description="Compare an instant: any combination of bounds, or `between`.")
class DateTimeFilter:
    lt: DateTime | None = strawberry.field(default=None, description="Before.")
    lte: DateTime | None = strawberry.field(default=None, description="At or before.")
    gt: DateTime | None = strawberry.field(default=None, description="After.")
    gte: DateTime | None = strawberry.field(default=None, description="At or after.")
    between: DateTimeRange | None = strawberry.field(
        default=None, description="From start to end, both included."
    )

    def to_filter(self) -> TimeRange:
        gte, lte = (self.between.start, self.between.end) if self.between else (self.gte, self.lte)
        return TimeRange(lt=self.lt, lte=lte, gt=self.gt, gte=gte)


@strawberry.input(description="A comparison of one keyed value; give one or more operators.")
class KeyedValueFilter:
    key: str = strawberry.field(description="The attribute key (geo sub-fields as 'location.city').")
    eq: JSON | None = strawberry.field(default=None, description="Equal to (for arrays: contains).")
    ne: JSON | None = strawberry.field(default=None, description="Not equal to.")
    in_: list[JSON] | None = strawberry.field(description="Equal to one of these.", default=None, name="in")
    gt: JSON | None = strawberry.field(default=None, description="Greater than.")
    gte: JSON | None = strawberry.field(default=None, description="Greater than or equal to.")
    lt: JSON | None = strawberry.field(default=None, description="Less than.")
    lte: JSON | None = strawberry.field(default=None, description="Less than or equal to.")
    exists: bool | None = strawberry.field(default=None, description="true: has a value; false: has none.")

    def operators(self) -> dict[str, Any]:
        """The operators given, by their GraphQL names (``in`` included)."""
        given: dict[str, Any] = {"eq": self.eq, "ne": self.ne, "in": self.in_, "gt": self.gt}
        given |= {"gte": self.gte, "lt": self.lt, "lte": self.lte, "exists": self.exists}
        return {op: value for op, value in given.items() if value is not None}


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
