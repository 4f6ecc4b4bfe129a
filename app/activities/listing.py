"""Listing the account's activities: filters, time order, pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from app.contacts.refs import IdentifierKeys, find_by_ref
from app.db import Database
from app.errors import DomainError, Problem
from app.pagination import Page, decode_cursor, make_page, page_size, seek_filter

from . import repository
from .filters import activity_sort, build_activity_filter


async def list_activities(
    account_id: str,
    db: Database,
    keys: IdentifierKeys,
    *,
    where: dict[str, Any] | None,
    direction: str,
    first: int | None,
    after: str | None,
) -> tuple[Page, Callable[[], Awaitable[int]]]:
    """One page of activities (newest first unless ``direction`` is asc) and a counter."""
    size = page_size(first)
    sort = activity_sort(direction)
    position = decode_cursor(after, sort) if after else None
    where = dict(where or {})
    ref = where.pop("contact", None)
    query = build_activity_filter(where)
    if ref is not None:
        try:
            contact = await find_by_ref(account_id, db, keys, ref)
        except DomainError as exc:
            raise DomainError(
                [Problem(p.code, p.message, ("where", "contact")) for p in exc.problems]
            ) from exc
        if contact is None:
            return make_page([], size, sort, after), _zero
        query["cID"] = contact["_id"]
    page_query = {"$and": [query, seek_filter(sort, position)]} if position else query
    docs = await repository.find_page(account_id, db, page_query, sort.mongo_sort(), size + 1)

    async def count() -> int:
        return await repository.count(account_id, db, query)

    return make_page(docs, size, sort, after), count


async def _zero() -> int:
    return 0
