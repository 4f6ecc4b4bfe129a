"""Query fields of the contacts domain: thin resolvers over refs and listing."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from app.auth import ScopeName, requires
from app.connection import Connection
from app.errors import DomainError, InputError
from app.inputs import plain

from .listing import list_contacts
from .refs import find_by_ref
from .types import Contact, ContactConnection, ContactSort, ContactWhere


@strawberry.type
class ContactQueries:
    @strawberry.field(
        description="One contact by ref: a cID, 'cID:<hex>', a primary key value, or "
        "'<key>:<value>' for the primary or a secondary key. Null when there is none.",
        permission_classes=[requires(ScopeName.CONTACTS_READ)],
    )
    async def contact(self, info: Info[Any, None], ref: str) -> Contact | None:
        ctx = info.context
        try:
            doc = await find_by_ref(ctx.account_id, ctx.db, await ctx.identifier_keys(), ref)
        except DomainError as exc:
            raise InputError.from_domain(exc) from exc
        return Contact.from_doc(doc) if doc else None

    @strawberry.field(
        description="Contacts matching `where` and `audience`, sorted and paged (at most 10,000 a page).",
        permission_classes=[requires(ScopeName.CONTACTS_READ)],
    )
    async def contacts(
        self,
        info: Info[Any, None],
        where: ContactWhere | None = None,
        audience: str | None = None,
        sort: ContactSort | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> ContactConnection:
        ctx = info.context
        needs_config = where is not None or sort is not None or audience is not None
        try:
            page, count = await list_contacts(
                ctx.account_id,
                ctx.db,
                definitions=await ctx.definitions() if needs_config else {},
                lists=await ctx.list_keys() if needs_config else set(),
                where=plain(where) if where else None,
                audience=audience,
                sort=plain(sort) if sort else None,
                first=first,
                after=after,
            )
        except DomainError as exc:
            raise InputError.from_domain(exc) from exc
        return Connection.build(page, Contact.from_doc, count)
