"""Listing jobs and activity reports: a filter, a sort order and a page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.db import Document
from app.pagination import Page, SortKey, fetch_page
from app.tenant import Tenant

from . import repository


@dataclass(frozen=True, slots=True)
class JobFilter:
    """Which jobs: of this kind (``contactsImport``...) and in this state, when given."""

    kind: str | None = None
    state: str | None = None

    def query(self) -> Document:
        return {k: v for k, v in (("kind", self.kind), ("state", self.state)) if v is not None}


async def list_jobs(
    tenant: Tenant, where: JobFilter | None, first: int | None, after: str | None
) -> tuple[Page, Callable[[], Awaitable[int]]]:
    """A page of the account's jobs, newest first, and a counter of all matches."""
    query = where.query() if where else {}
    newest = SortKey("createdAt", descending=True)
    return await fetch_page(repository.pages(tenant), query, newest, first, after)


async def list_reports(
    tenant: Tenant, sort: SortKey, first: int | None, after: str | None
) -> tuple[Page, Callable[[], Awaitable[int]]]:
    """A page of the account's activity reports in ``sort`` order, and a counter."""
    return await fetch_page(repository.report_pages(tenant), {}, sort, first, after)
