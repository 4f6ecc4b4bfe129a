"""Listing contacts: a filter, an optional audience, a sort order and a page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

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
    fields: Sequence[str] | None = None,
) -> tuple[Page, Callable[[], Awaitable[int]]]:
    """One page of contacts, and a function counting all matches (run only if asked).
    ``fields``: the stored fields the caller renders (the sort's and ``_id`` are added);
    None reads whole contacts, as a page selected by activity conditions always does."""
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
    if fields is not None:
        fields = [*fields, "_id", sort_key.field]
    return await fetch_page(repository.pages(tenant, fields), query, sort_key, first, after)
