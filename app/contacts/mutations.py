"""Mutations of the contacts domain: thin resolvers over the use cases."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.auth import ScopeName, requires
from app.errors import DomainError, UserError, user_errors

from .create import create_contact, upsert_contact
from .delete import delete_contact
from .inputs import ContactInput
from .merge import merge_contacts
from .merge_types import ContactMergeInput, ContactMergePayload
from .types import Contact
from .unsubscribe import unsubscribe_contact
from .update import update_contact

WRITE = [requires(ScopeName.CONTACTS_WRITE)]


@strawberry.type
class ContactPayload:
    contact: Contact | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ContactUpsertPayload:
    contact: Contact | None = None
    created: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ContactDeletePayload:
    deleted_c_id: str | None = strawberry.field(default=None, name="deletedCID")
    activities_deleted: int = 0
    orders_deleted: int = 0
    cart_deleted: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ContactUnsubscribePayload:
    contact: Contact | None = None
    changed: bool = strawberry.field(default=False, description="False when it was already unsubscribed.")
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ContactMutations:
    @strawberry.mutation(description="Create a contact.", permission_classes=WRITE)
    async def contact_create(self, info: Info[Any, None], input: ContactInput) -> ContactPayload:
        ctx = info.context
        try:
            doc = await create_contact(ctx.account_id, ctx.db, await ctx.config(), input.to_write())
        except DomainError as exc:
            return ContactPayload(user_errors=user_errors(exc))
        return ContactPayload(contact=Contact.from_doc(doc))

    @strawberry.mutation(
        description="Update the contact the input's primary (then secondary) key names, or create it.",
        permission_classes=WRITE,
    )
    async def contact_upsert(self, info: Info[Any, None], input: ContactInput) -> ContactUpsertPayload:
        ctx = info.context
        try:
            doc, created = await upsert_contact(ctx.account_id, ctx.db, await ctx.config(), input.to_write())
        except DomainError as exc:
            return ContactUpsertPayload(user_errors=user_errors(exc))
        return ContactUpsertPayload(contact=Contact.from_doc(doc), created=created)

    @strawberry.mutation(description="Change a contact; all or nothing.", permission_classes=WRITE)
    async def contact_update(self, info: Info[Any, None], ref: str, input: ContactInput) -> ContactPayload:
        ctx = info.context
        try:
            doc = await update_contact(ctx.account_id, ctx.db, await ctx.config(), ref, input.to_write())
        except DomainError as exc:
            return ContactPayload(user_errors=user_errors(exc))
        return ContactPayload(contact=Contact.from_doc(doc))

    @strawberry.mutation(
        description="Erase a contact with its activities, orders, cart and supplements (one transaction).",
        permission_classes=WRITE,
    )
    async def contact_delete(self, info: Info[Any, None], ref: str) -> ContactDeletePayload:
        ctx = info.context
        try:
            deleted = await delete_contact(
                ctx.account_id, ctx.db, ctx.services.client, await ctx.config(), ref
            )
        except DomainError as exc:
            return ContactDeletePayload(user_errors=user_errors(exc))
        return ContactDeletePayload(
            deleted_c_id=deleted.cid,
            activities_deleted=deleted.activities,
            orders_deleted=deleted.orders,
            cart_deleted=deleted.cart,
        )

    @strawberry.mutation(
        description="Merge two contacts in one transaction: the source is deleted and its cID resolves to "
        "the destination from then on.",
        permission_classes=WRITE,
    )
    async def contact_merge(self, info: Info[Any, None], input: ContactMergeInput) -> ContactMergePayload:
        ctx = info.context
        try:
            result = await merge_contacts(
                ctx.account_id,
                ctx.db,
                ctx.services.client,
                await ctx.config(),
                input.source_contact,
                input.destination_contact,
                input.options.to_options(),
            )
        except DomainError as exc:
            return ContactMergePayload(user_errors=user_errors(exc))
        return ContactMergePayload.of(result)

    @strawberry.mutation(
        description="Unsubscribe a channel ('email', 'sms' or 'push'), optionally attributed to a message "
        "(mcID).",
        permission_classes=WRITE,
    )
    async def contact_unsubscribe(
        self,
        info: Info[Any, None],
        ref: str,
        channel: str = "email",
        mc_id: Annotated[str | None, strawberry.argument(name="mcID")] = None,
    ) -> ContactUnsubscribePayload:
        ctx = info.context
        try:
            doc, changed = await unsubscribe_contact(
                ctx.account_id, ctx.db, ctx.services.client, await ctx.config(), ref, channel, mc_id
            )
        except DomainError as exc:
            return ContactUnsubscribePayload(user_errors=user_errors(exc))
        return ContactUnsubscribePayload(contact=Contact.from_doc(doc), changed=changed)
