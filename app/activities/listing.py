"""Listing the account's activities: filters, time order, pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from app.contacts.refs import IdentifierKeys, find_by_ref
from app.errors import DomainError, Problem
from app.pagination import Page, empty_page, fetch_page
from app.tenant import Tenant

from . import repository
from .filters import ActivityFilter, activity_sort, build_activity_filter


async def list_activities(
    tenant: Tenant,
    keys: IdentifierKeys,
    *,
    where: ActivityFilter | None,
    direction: str,
    first: int | None,
    after: str | None,
    fields: tuple[str, ...] | None = None,
) -> tuple[Page, Callable[[], Awaitable[int]]]:
    """One page of activities (newest first unless ``direction`` is asc), only ``fields`` of
    them if given, and a counter."""
    sort = activity_sort(direction)
    ref = where.contact if where else None
    query = build_activity_filter(where)
    if ref is not None:
        try:
            contact = await find_by_ref(tenant, keys, ref)
        except DomainError as exc:
            raise DomainError(
                [Problem(p.code, p.message, ("where", "contact")) for p in exc.problems]
            ) from exc
        if contact is None:
            return empty_page(sort, first, after)
        query["cID"] = contact["_id"]
    return await fetch_page(repository.pages(tenant, fields), query, sort, first, after)
