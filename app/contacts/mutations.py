"""Mutations of the contacts domain: thin resolvers over the use cases."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.auth import ScopeName, requires
from app.context import Info
from app.graphql_errors import Payload, user_errors_in
from app.scalars import JSON

from .consent import ConsentSource
from .create import create_contact, upsert_contact
from .delete import delete_contact
from .inputs import ContactInput
from .merge import merge_contacts
from .merge_types import ContactMergeInput, ContactMergePayload
from .supplements import delete_supplement, record_supplement
from .types import Contact
from .unsubscribe import unsubscribe_contact
from .update import update_contact

WRITE = [requires(ScopeName.CONTACTS_WRITE)]


def consent_source(info: Info) -> ConsentSource:
    """This mutation, as the consent history names who changed a channel."""
    return ConsentSource(
        "mutation", operation=info.field_name, api_key=info.context.principal.key_name or None
    )


@strawberry.type(description="The result of a contact mutation: the contact.")
class ContactPayload(Payload):
    contact: Contact | None = strawberry.field(
        default=None, description="The contact after the write; null on failure."
    )


@strawberry.type(description="The result of contactUpsert: the contact and whether it is new.")
class ContactUpsertPayload(ContactPayload):
    created: bool = strawberry.field(default=False, description="True when the contact was created.")


@strawberry.type(description="The result of contactDelete: what was erased.")
class ContactDeletePayload(Payload):
    deleted_c_id: str | None = strawberry.field(
        description="The id of the contact erased; null on failure.", default=None, name="deletedCID"
    )
    activities_deleted: int = strawberry.field(default=0, description="Its activities erased.")
    orders_deleted: int = strawberry.field(default=0, description="Its orders erased.")
    cart_deleted: bool = strawberry.field(default=False, description="It had a cart, erased.")


@strawberry.type(description="The result of contactUnsubscribe.")
class ContactUnsubscribePayload(ContactPayload):
    changed: bool = strawberry.field(default=False, description="False when it was already unsubscribed.")


@strawberry.type(description="The result of supplementDelete.")
class SupplementDeletePayload(ContactPayload):
    deleted: bool = strawberry.field(default=False, description="False when the contact had no such key.")


@strawberry.type
class ContactMutations:
    @strawberry.mutation(description="Create a contact.", permission_classes=WRITE)
    @user_errors_in(ContactPayload)
    async def contact_create(self, info: Info, input: ContactInput) -> ContactPayload:
        ctx = info.context
        doc = await create_contact(ctx.tenant, await ctx.config(), input.to_write(consent_source(info)))
        return ContactPayload(contact=Contact.from_doc(doc))

    @strawberry.mutation(
        description="Update the contact the input's primary (then secondary) key names, or create it.",
        permission_classes=WRITE,
    )
    @user_errors_in(ContactUpsertPayload)
    async def contact_upsert(self, info: Info, input: ContactInput) -> ContactUpsertPayload:
        ctx = info.context
        doc, created = await upsert_contact(
            ctx.tenant, await ctx.config(), input.to_write(consent_source(info))
        )
        return ContactUpsertPayload(contact=Contact.from_doc(doc), created=created)

    @strawberry.mutation(description="Change a contact; all or nothing.", permission_classes=WRITE)
    @user_errors_in(ContactPayload)
    async def contact_update(self, info: Info, ref: str, input: ContactInput) -> ContactPayload:
        ctx = info.context
        doc = await update_contact(ctx.tenant, await ctx.config(), ref, input.to_write(consent_source(info)))
        return ContactPayload(contact=Contact.from_doc(doc))

    @strawberry.mutation(
        description="Erase a contact with its activities, orders, cart and supplements (one transaction).",
        permission_classes=WRITE,
    )
    @user_errors_in(ContactDeletePayload)
    async def contact_delete(self, info: Info, ref: str) -> ContactDeletePayload:
        ctx = info.context
        deleted = await delete_contact(ctx.tenant, await ctx.config(), ref)
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
    @user_errors_in(ContactMergePayload)
    async def contact_merge(self, info: Info, input: ContactMergeInput) -> ContactMergePayload:
        ctx = info.context
        api_key = ctx.principal.key_name or None
        result = await merge_contacts(ctx.tenant, await ctx.config(), input.to_request(), api_key)
        return ContactMergePayload.of(result)

    @strawberry.mutation(
        description="Unsubscribe a channel ('email', 'sms' or 'push'), optionally attributed to a message "
        "(mcID).",
        permission_classes=WRITE,
    )
    @user_errors_in(ContactUnsubscribePayload)
    async def contact_unsubscribe(
        self,
        info: Info,
        ref: str,
        channel: str = "email",
        mc_id: Annotated[str | None, strawberry.argument(name="mcID")] = None,
    ) -> ContactUnsubscribePayload:
        ctx = info.context
        doc, changed = await unsubscribe_contact(
            ctx.tenant,
            await ctx.config(),
            ref,
            channel,
            mc_id,
            consent_source(info),
        )
        return ContactUnsubscribePayload(contact=Contact.from_doc(doc), changed=changed)

    @strawberry.mutation(
        description="Set one supplement of a contact (a named JSON record, like an attribute value: "
        "sanitised keys, 20 levels, 10,000-character strings, the contact within 1 MiB).",
        permission_classes=WRITE,
    )
    @user_errors_in(ContactPayload)
    async def supplement_record(
        self,
        info: Info,
        ref: str,
        key: Annotated[str, strawberry.argument(description="1-64 letters, digits, '_' or '-'.")],
        data: JSON,
        expected_version: Annotated[
            int | None,
            strawberry.argument(description="Refuse the write unless the contact is at this version."),
        ] = None,
    ) -> ContactPayload:
        ctx = info.context
        doc = await record_supplement(ctx.tenant, await ctx.config(), ref, key, data, expected_version)
        return ContactPayload(contact=Contact.from_doc(doc))

    @strawberry.mutation(description="Remove one supplement of a contact.", permission_classes=WRITE)
    @user_errors_in(SupplementDeletePayload)
    async def supplement_delete(self, info: Info, ref: str, key: str) -> SupplementDeletePayload:
        ctx = info.context
        doc, deleted = await delete_supplement(ctx.tenant, await ctx.config(), ref, key)
        return SupplementDeletePayload(contact=Contact.from_doc(doc), deleted=deleted)
