"""Mutations of the account domain (the `admin` scope): thin resolvers over the use cases."""

from __future__ import annotations

import strawberry

from app.auth import ScopeName, requires
from app.context import Info
from app.graphql_errors import Payload, user_errors_in
from app.inputs import plain

from .attributes import create_attribute
from .audiences import create_audience
from .lists import create_list
from .repository import get_account
from .setup import set_identifier_keys
from .types import (
    Account,
    AccountAttributeCreateInput,
    AccountIdentifierKeysInput,
    AccountListCreateInput,
    AttributeDefinitionType,
    Audience,
    AudienceCreateInput,
    ContactList,
)

ADMIN = [requires(ScopeName.ADMIN)]


@strawberry.type(description="The result of accountAttributeCreate.")
class AccountAttributeCreatePayload(Payload):
    attribute: AttributeDefinitionType | None = strawberry.field(
        default=None, description="The attribute created; null on failure."
    )


@strawberry.type(description="The result of accountListCreate.")
class AccountListCreatePayload(Payload):
    contact_list: ContactList | None = strawberry.field(
        description="The list created; null on failure.", default=None, name="list"
    )


@strawberry.type(description="The result of audienceCreate.")
class AudienceCreatePayload(Payload):
    audience: Audience | None = strawberry.field(
        default=None, description="The audience created; null on failure."
    )


@strawberry.type(description="The result of accountIdentifierKeysSet.")
class AccountIdentifierKeysSetPayload(Payload):
    account: Account | None = strawberry.field(
        default=None, description="The account with its new keys; null on failure."
    )


@strawberry.type
class AccountMutations:
    @strawberry.mutation(description="Define a contact attribute.", permission_classes=ADMIN)
    @user_errors_in(AccountAttributeCreatePayload)
    async def account_attribute_create(
        self, info: Info, input: AccountAttributeCreateInput
    ) -> AccountAttributeCreatePayload:
        try:
            created = await create_attribute(info.context.tenant, input.to_model())
        finally:
            info.context.account_changed()
        return AccountAttributeCreatePayload(attribute=AttributeDefinitionType.from_model(created))

    @strawberry.mutation(description="Create a list.", permission_classes=ADMIN)
    @user_errors_in(AccountListCreatePayload)
    async def account_list_create(
        self, info: Info, input: AccountListCreateInput
    ) -> AccountListCreatePayload:
        try:
            doc = await create_list(info.context.tenant, input.key, input.name)
        finally:
            info.context.account_changed()
        return AccountListCreatePayload(contact_list=ContactList(key=doc["key"], name=doc["name"]))

    @strawberry.mutation(description="Save contact conditions as an audience.", permission_classes=ADMIN)
    @user_errors_in(AudienceCreatePayload)
    async def audience_create(self, info: Info, input: AudienceCreateInput) -> AudienceCreatePayload:
        doc = await create_audience(info.context.tenant, input.key, input.name, plain(input.rule))
        return AudienceCreatePayload(audience=Audience.from_doc(doc))

    @strawberry.mutation(
        description="Choose the primary key (email or a defined attribute) and the unique secondary keys.",
        permission_classes=ADMIN,
    )
    @user_errors_in(AccountIdentifierKeysSetPayload)
    async def account_identifier_keys_set(
        self, info: Info, input: AccountIdentifierKeysInput
    ) -> AccountIdentifierKeysSetPayload:
        ctx = info.context
        try:
            await set_identifier_keys(ctx.tenant, input.primary_key, list(input.secondary_keys))
        finally:
            ctx.account_changed()
        doc = await get_account(ctx.tenant)
        return AccountIdentifierKeysSetPayload(account=Account.from_doc(doc) if doc else None)
