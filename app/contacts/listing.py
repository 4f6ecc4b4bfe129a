"""Listing contacts: a filter, an optional audience, a sort order and a page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from app.account.attributes import AttributeDefinition
from app.account.audiences import audience_rule
from app.pagination import Page, fetch_page
from app.query import all_of
from app.tenant import Tenant

from . import repository
from .activity_conditions import activity_condition, contact_pipeline
from .filters import ContactFilter, ContactOrder, build_contact_filter, contact_sort


async def list_contacts(
    tenant: Tenant,
    *,
    definitions: dict[str, AttributeDefinition],
    lists: set[str],
    where: ContactFilter | None,
    audience: str | None,
    sort: ContactOrder | None,
    first: int | None,
    after: str | None,
) -> tuple[Page, Callable[[], Awaitable[int]]]:
    """One page of contacts, and a function counting all matches (run only if asked)."""
    sort_key = contact_sort(sort, definitions)
    clauses = [build_contact_filter(where, definitions, lists)]
    conditions = [activity_condition(where.activity if where else None)]
    if audience is not None:
        rule = ContactFilter.from_dict(await audience_rule(tenant, audience), "audience")
        clauses.append(build_contact_filter(rule, definitions, lists, argument="audience"))
        conditions.append(activity_condition(rule.activity, argument="audience"))
    query = all_of(*clauses)
    active = [c for c in conditions if c is not None]
    if active:  # activity conditions: an aggregation, evaluated inside the database
        pages = repository.PipelinePages(tenant, contact_pipeline(query, active))
        return await fetch_page(pages, {}, sort_key, first, after)
    return await fetch_page(repository.pages(tenant), query, sort_key, first, after)
