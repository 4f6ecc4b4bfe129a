"""Listing contacts: filters, an optional audience, a sort order and a page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from app.account.attributes import AttributeDefinition
from app.account.audiences import audience_filter
from app.db import Database
from app.pagination import Page, decode_cursor, make_page, page_size, seek_filter

from . import repository
from .filters import build_contact_filter, contact_sort


async def list_contacts(
    account_id: str,
    db: Database,
    *,
    definitions: dict[str, AttributeDefinition],
    lists: set[str],
    where: dict[str, Any] | None,
    audience: str | None,
    sort: dict[str, Any] | None,
    first: int | None,
    after: str | None,
) -> tuple[Page, Callable[[], Awaitable[int]]]:
    """One page of contacts, and a function counting all matches (run only if asked)."""
    size = page_size(first)
    sort_key = contact_sort(sort, definitions)
    position = decode_cursor(after, sort_key) if after else None
    clauses = [build_contact_filter(where, definitions, lists)]
    if audience is not None:
        clauses.append(await audience_filter(account_id, db, audience, definitions, lists))
    clauses = [c for c in clauses if c]
    query = clauses[0] if len(clauses) == 1 else ({"$and": clauses} if clauses else {})
    page_query = {"$and": [query, seek_filter(sort_key, position)]} if position else query
    docs = await repository.find_page(account_id, db, page_query, sort_key.mongo_sort(), size + 1)

    async def count() -> int:
        return await repository.count(account_id, db, query)

    return make_page(docs, size, sort_key, after), count
