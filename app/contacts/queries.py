"""Query fields of the contacts domain: thin resolvers over refs and listing."""

from __future__ import annotations

import strawberry

from app.auth import ScopeName, requires
from app.connection import Connection, node_projection
from app.context import Info
from app.graphql_errors import input_errors, user_errors_in

from .listing import list_contacts
from .loaders import ContactByIdLoader
from .merge import preview_merge
from .merge_types import ContactMergeInput, ContactMergePayload
from .refs import find_by_ref
from .types import CONTACT_FIELDS, Contact, ContactConnection, ContactSort, ContactWhere


@strawberry.type
class ContactQueries:
    @strawberry.field(
        description="One contact by ref: a cID, 'cID:<hex>', a primary key value, or "
        "'<key>:<value>' for the primary or a secondary key. Null when there is none.",
        permission_classes=[requires(ScopeName.CONTACTS_READ)],
    )
    @input_errors
    async def contact(self, info: Info, ref: str) -> Contact | None:
        ctx = info.context
        doc = await find_by_ref(ctx.tenant, await ctx.identifier_keys(), ref)
        if doc is None:
            return None
        ctx.loaders.of(ContactByIdLoader).prime(doc["_id"], doc)  # later reads of it in this request
        return Contact.from_doc(doc)

    @strawberry.field(
        description="The contact as contactMerge would leave it, with the counts of activities and orders "
        "moved or dropped; writes nothing. (Its nested orders/activities are the destination's today.)",
        permission_classes=[requires(ScopeName.CONTACTS_READ)],
    )
    @user_errors_in(ContactMergePayload)
    async def contact_merge_preview(self, info: Info, input: ContactMergeInput) -> ContactMergePayload:
        ctx = info.context
        return ContactMergePayload.of(await preview_merge(ctx.tenant, await ctx.config(), input.to_request()))

    @strawberry.field(
        description="Contacts matching `where` and `audience`, sorted and paged (at most 10,000 a page).",
        permission_classes=[requires(ScopeName.CONTACTS_READ)],
    )
    @input_errors
    async def contacts(
        self,
        info: Info,
        where: ContactWhere | None = None,
        audience: str | None = None,
        sort: ContactSort | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> ContactConnection:
        ctx = info.context
        needs_config = where is not None or sort is not None or audience is not None
        page, count = await list_contacts(
            ctx.tenant,
            definitions=await ctx.definitions() if needs_config else {},
            lists=await ctx.list_keys() if needs_config else set(),
            where=where.to_filter() if where else None,
            audience=audience,
            sort=sort.to_order() if sort else None,
            first=first,
            after=after,
            fields=node_projection(info, CONTACT_FIELDS, ()),  # list_contacts adds _id and the sort
        )
        return Connection.build(page, Contact.from_doc, count)
