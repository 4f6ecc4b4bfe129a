"""Listing contacts: filters, an optional audience, a sort order and a page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from app.account.attributes import AttributeDefinition
from app.account.audiences import audience_rule
from app.db import Database
from app.pagination import Page, decode_cursor, make_page, page_size, seek_filter

from . import repository
from .activity_conditions import activity_condition, lookup_stages
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
    conditions = [activity_condition(where)]
    if audience is not None:
        rule = await audience_rule(account_id, db, audience)
        clauses.append(build_contact_filter(rule, definitions, lists, argument="audience"))
        conditions.append(activity_condition(rule, argument="audience"))
    clauses = [c for c in clauses if c]
    query = clauses[0] if len(clauses) == 1 else ({"$and": clauses} if clauses else {})
    stages = lookup_stages(account_id, [c for c in conditions if c is not None])
    seek = seek_filter(sort_key, position) if position else {}
    if stages:
        docs = await repository.aggregate_page(
            account_id, db, query, stages, seek, sort_key.mongo_sort(), size + 1
        )
    else:
        page_query = {"$and": [query, seek]} if seek else query
        docs = await repository.find_page(account_id, db, page_query, sort_key.mongo_sort(), size + 1)

    async def count() -> int:
        if stages:
            return await repository.aggregate_count(account_id, db, query, stages)
        return await repository.count(account_id, db, query)

    return make_page(docs, size, sort_key, after), count
