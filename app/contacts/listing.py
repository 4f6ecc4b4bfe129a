"""Listing contacts: filters, an optional audience, a sort order and a page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from app.account.attributes import AttributeDefinition
from app.account.audiences import audience_rule
from app.db import Database
from app.pagination import Page, fetch_page

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
    sort_key = contact_sort(sort, definitions)
    clauses = [build_contact_filter(where, definitions, lists)]
    conditions = [activity_condition(where)]
    if audience is not None:
        rule = await audience_rule(account_id, db, audience)
        clauses.append(build_contact_filter(rule, definitions, lists, argument="audience"))
        conditions.append(activity_condition(rule, argument="audience"))
    clauses = [c for c in clauses if c]
    query = clauses[0] if len(clauses) == 1 else ({"$and": clauses} if clauses else {})
    stages = lookup_stages(account_id, [c for c in conditions if c is not None])
    if stages:  # activity conditions: an aggregation, evaluated inside the database
        find = partial(repository.aggregate_page, account_id, db, stages=stages)
        count = partial(repository.aggregate_count, account_id, db, stages=stages)
        return await fetch_page(find, count, query, sort_key, first, after)
    find_plain = partial(repository.find_page, account_id, db)
    count_plain = partial(repository.count, account_id, db)
    return await fetch_page(find_plain, count_plain, query, sort_key, first, after)
