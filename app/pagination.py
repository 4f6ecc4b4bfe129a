"""Relay connections: page sizes, opaque cursors and keyset ("seek") filters.

A cursor holds the sort position of an edge: the sort tag, the sort value and the
document ``_id`` (the tie-breaker). Paging therefore stays stable while documents
are added, and never skips or repeats one.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson
from bson import ObjectId
from bson.errors import InvalidId

from app.errors import DomainError, ErrorCode
from app.query import all_of
from app.scalars import format_datetime, parse_datetime

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 10_000


def page_size(first: int | None, argument: str = "first") -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise DomainError.one(
            ErrorCode.VALIDATION_ERROR,
            f"'{argument}' must be between 0 and {MAX_PAGE_SIZE}, got {first}",
            (argument,),
        )
    return first


@dataclass(frozen=True, slots=True)
class SortKey:
    """One sort field plus ``_id`` as the tie-breaker, both in ``direction``."""

    field: str  # the stored path, e.g. "lastModified" or "attributes.age"
    descending: bool

    @property
    def tag(self) -> str:
        return f"{self.field}:{'d' if self.descending else 'a'}"

    def mongo_sort(self) -> list[tuple[str, int]]:
        direction = -1 if self.descending else 1
        if self.field == "_id":
            return [("_id", direction)]
        return [(self.field, direction), ("_id", direction)]


@dataclass(frozen=True, slots=True)
class Position:
    value: Any
    id: ObjectId


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"d": format_datetime(value)}
    if isinstance(value, ObjectId):
        return {"o": str(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "d" in value:
            return parse_datetime(value["d"])
        if "o" in value:
            return ObjectId(value["o"])
        raise ValueError("bad value")
    if isinstance(value, list):
        raise ValueError("bad value")
    return value


def encode_cursor(sort: SortKey, doc: dict[str, Any]) -> str:
    value = _get_path(doc, sort.field)
    raw = orjson.dumps([sort.tag, _encode_value(value), str(doc["_id"])])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: SortKey, argument: str = "after") -> Position:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        tag, value, oid = orjson.loads(raw)
        if tag != sort.tag:
            raise DomainError.one(
                ErrorCode.INVALID_CURSOR,
                f"'{argument}' is a cursor of another sort order; start again without it",
                (argument,),
            )
        return Position(_decode_value(value), ObjectId(oid))
    except DomainError:
        raise
    except (binascii.Error, ValueError, TypeError, InvalidId, orjson.JSONDecodeError) as exc:
        raise DomainError.one(
            ErrorCode.INVALID_CURSOR, f"'{argument}' is not a valid cursor", (argument,)
        ) from exc


def seek_filter(sort: SortKey, position: Position) -> dict[str, Any]:
    """Query-language filter for the documents strictly after ``position``.

    MongoDB orders missing/null before any value, so nulls come first ascending and
    last descending.
    """
    after = "$lt" if sort.descending else "$gt"
    if sort.field == "_id":
        return {"_id": {after: position.id}}
    f, v, oid = sort.field, position.value, position.id
    if v is None:
        same = {f: None, "_id": {after: oid}}
        return same if sort.descending else {"$or": [same, {f: {"$ne": None}}]}
    branches: list[dict[str, Any]] = [{f: {after: v}}, {f: v, "_id": {after: oid}}]
    if sort.descending:
        branches.append({f: None})
    return {"$or": branches}


def seek_expression(sort: SortKey, position: Position) -> dict[str, Any]:
    """The same as ``seek_filter`` as an aggregation expression, for fields that are never null."""
    op = "$lt" if sort.descending else "$gt"
    ref = f"${sort.field}"
    return {
        "$or": [
            {op: [ref, position.value]},
            {"$and": [{"$eq": [ref, position.value]}, {op: ["$_id", position.id]}]},
        ]
    }


def _get_path(doc: dict[str, Any], path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


@dataclass(slots=True)
class Page:
    """One page of documents, as the connection types render it."""

    docs: Sequence[dict[str, Any]]
    sort: SortKey
    has_next: bool
    has_previous: bool

    def cursor(self, doc: dict[str, Any]) -> str:
        return encode_cursor(self.sort, doc)


def page_of_list(docs: Sequence[dict[str, Any]], sort: SortKey, first: int | None, after: str | None) -> Page:
    """A page of documents already in memory (each with an ``_id``), in ``sort`` order."""
    size = page_size(first)
    ordered = sorted(docs, key=lambda d: (_get_path(d, sort.field), d["_id"]), reverse=sort.descending)
    if after is not None:
        position = decode_cursor(after, sort)
        mark = (position.value, position.id)

        def beyond(doc: dict[str, Any]) -> bool:
            key = (_get_path(doc, sort.field), doc["_id"])
            return key < mark if sort.descending else key > mark

        ordered = [d for d in ordered if beyond(d)]
    return Page(docs=ordered[:size], sort=sort, has_next=len(ordered) > size, has_previous=after is not None)


def make_page(docs: list[dict[str, Any]], size: int, sort: SortKey, *, after: bool) -> Page:
    """``docs`` were fetched with ``limit(size + 1)``: the extra one only says there is more.
    ``after``: the page starts after a cursor (an empty ``after`` is no cursor)."""
    return Page(docs=docs[:size], sort=sort, has_next=len(docs) > size, has_previous=after)


@dataclass(frozen=True, slots=True)
class PerParentQuery:
    """A nested connection's arguments, the same for every parent at one level."""

    match: dict[str, Any]  # extra filter, without accountId and the parent key
    sort: SortKey
    limit: int
    after: Position | None
    fields: tuple[str, ...] | None = None  # the stored fields to read (None: whole documents)

    @property
    def cache_key(self) -> tuple[bytes, str, int, Any, tuple[str, ...] | None]:
        match = orjson.dumps(self.match, option=orjson.OPT_SORT_KEYS, default=str)
        position = (str(self.after.value), str(self.after.id)) if self.after else None
        return (match, self.sort.tag, self.limit, position, self.fields)


class PageSource(Protocol):
    """What fetch_page reads: documents matching a filter in a sort order (at most
    ``limit``), and how many match. A repository's ``pages(tenant)`` is one."""

    async def find_page(
        self, query: dict[str, Any], sort: list[tuple[str, int]], limit: int
    ) -> list[dict[str, Any]]: ...

    async def count(self, query: dict[str, Any]) -> int: ...


async def fetch_page(
    source: PageSource, query: dict[str, Any], sort: SortKey, first: int | None, after: str | None
) -> tuple[Page, Callable[[], Awaitable[int]]]:
    """A page of ``query`` in ``sort`` order after the cursor, and a counter of all matches
    (run only if the client asks for totalCount)."""
    size = page_size(first)
    position = decode_cursor(after, sort) if after else None
    page_query = all_of(query, seek_filter(sort, position)) if position else query
    docs = await source.find_page(page_query, sort.mongo_sort(), size + 1)

    async def total() -> int:
        return await source.count(query)

    return make_page(docs, size, sort, after=position is not None), total


def empty_page(
    sort: SortKey, first: int | None, after: str | None
) -> tuple[Page, Callable[[], Awaitable[int]]]:
    async def zero() -> int:
        return 0

    return make_page([], page_size(first), sort, after=bool(after)), zero
