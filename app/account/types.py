"""GraphQL types of the account: identifier keys, attribute definitions, lists, audiences."""

from __future__ import annotations

import strawberry

from app.contacts.types import ContactWhere
from app.context import Info
from app.db import Document
from app.scalars import JSON

from . import repository
from .attributes import AttributeDefinition, AttributeType, Validators

# The domain's enum, exposed as it is (its members' names are the GraphQL values).
strawberry.enum(AttributeType, name="AttributeType", description="The type of an attribute's values.")


@strawberry.type(description="Rules a new attribute value must pass (existing values are not revalidated).")
class AttributeValidators:
    required: bool = strawberry.field(description="A contact must have a value.")
    pattern: str | None = strawberry.field(description="STRING: values match this regular expression (RE2).")
    min: float | None = strawberry.field(description="NUMBER: the smallest value allowed.")
    max: float | None = strawberry.field(description="NUMBER: the largest value allowed.")
    enum: list[str] | None = strawberry.field(description="STRING: the values allowed.")


@strawberry.type(name="AttributeDefinition", description="A contact attribute the account defined.")
class AttributeDefinitionType:
    key: str = strawberry.field(description="The attribute's key, as refs, filters and writes name it.")
    name: str = strawberry.field(description="Display name.")
    type: AttributeType = strawberry.field(description="The type every value has.")
    max_items: int | None = strawberry.field(description="ARRAY: at most this many items (the newest kept).")
    validators: AttributeValidators = strawberry.field(description="Rules new values must pass.")

    @classmethod
    def from_model(cls, d: AttributeDefinition) -> AttributeDefinitionType:
        v = d.validators
        return cls(
            key=d.key,
            name=d.name,
            type=d.type,
            max_items=d.max_items,
            validators=AttributeValidators(
                required=v.required,
                pattern=v.pattern,
                min=v.min,
                max=v.max,
                enum=list(v.enum) if v.enum is not None else None,
            ),
        )


@strawberry.type(description="A list contacts can be members of.")
class ContactList:
    key: str = strawberry.field(description="The key lists are named by in writes and filters.")
    name: str = strawberry.field(description="Display name.")


@strawberry.type(description="A saved set of contact conditions; use it as contacts(audience: key).")
class Audience:
    key: str = strawberry.field(description="The key contacts(audience:) takes.")
    name: str = strawberry.field(description="Display name.")
    rule: JSON = strawberry.field(description="The saved contact conditions (a ContactWhere).")

    @classmethod
    def from_doc(cls, doc: Document) -> Audience:
        return cls(key=doc["key"], name=doc.get("name") or doc["key"], rule=JSON(doc.get("rule") or {}))


@strawberry.type(description="An event property and the first data type seen for it.")
class EventProperty:
    action: str = strawberry.field(description="The action the property belongs to.")
    key: str = strawberry.field(description="The property key.")
    type: str = strawberry.field(
        description="The type first seen; values of another type are not searchable."
    )
    searchable: bool = strawberry.field(description="Property filters can match it.")


@strawberry.type(description="The caller's account and its configuration.")
class Account:
    id: str = strawberry.field(description="The account id; every document and query is scoped to it.")
    name: str = strawberry.field(description="The account's display name.")
    primary_key: str = strawberry.field(description="Identifier used by bare refs (default email).")
    secondary_keys: list[str] = strawberry.field(description="Other unique identifiers, e.g. custID.")

    @classmethod
    def from_doc(cls, doc: Document) -> Account:
        return cls(
            id=doc["_id"],
            name=doc.get("name") or doc["_id"],
            primary_key=doc.get("primaryKey", "email"),
            secondary_keys=list(doc.get("secondaryKeys", [])),
        )

    @strawberry.field(description="The contact attributes the account defined.")
    async def attributes(self, info: Info) -> list[AttributeDefinitionType]:
        definitions = await info.context.definitions()
        return [AttributeDefinitionType.from_model(d) for d in definitions.values()]

    @strawberry.field(description="The contact lists of the account.")
    async def lists(self, info: Info) -> list[ContactList]:
        docs = await repository.list_lists(info.context.tenant)
        return [ContactList(key=d["key"], name=d.get("name") or d["key"]) for d in docs]

    @strawberry.field(description="The saved audiences (contact conditions) of the account.")
    async def audiences(self, info: Info) -> list[Audience]:
        docs = await repository.list_audiences(info.context.tenant)
        return [Audience.from_doc(d) for d in docs]

    @strawberry.field(description="Event properties seen per action, with the type first recorded.")
    async def event_properties(self, info: Info) -> list[EventProperty]:
        docs = await repository.list_event_properties(info.context.tenant)
        return [
            EventProperty(
                action=d["action"], key=d["key"], type=d["type"], searchable=d.get("searchable", True)
            )
            for d in docs
        ]


# -- inputs and payloads ----------------------------------------------------------------


@strawberry.input(description="Validators for a new attribute.")
class AttributeValidatorsInput:
    required: bool = strawberry.field(default=False, description="A contact must have a value.")
    pattern: str | None = strawberry.field(
        default=None, description="Regular expression (strings, array items)."
    )
    min: float | None = strawberry.field(
        default=None, description="Numbers: minimum value; strings: minimum length."
    )
    max: float | None = strawberry.field(
        default=None, description="Numbers: maximum value; strings: maximum length."
    )
    enum: list[str] | None = strawberry.field(
        default=None, description="Allowed values (strings, array items)."
    )


@strawberry.input(description="A new contact attribute: its key, display name, type and validators.")
class AccountAttributeCreateInput:
    key: str = strawberry.field(description="1-64 letters, digits, '_' or '-', starting with a letter.")
    name: str | None = strawberry.field(default=None, description="Display name; defaults to the key.")
    type: AttributeType = strawberry.field(description="The type every value must have.")
    max_items: int | None = strawberry.field(default=None, description="Arrays only; default 25.")
    validators: AttributeValidatorsInput | None = strawberry.field(
        default=None, description="Rules new values must pass."
    )

    def to_model(self) -> AttributeDefinition:
        v = self.validators or AttributeValidatorsInput()
        return AttributeDefinition(
            key=self.key,
            name=self.name or self.key,
            type=self.type,
            max_items=self.max_items,
            validators=Validators(
                required=v.required,
                pattern=v.pattern,
                min=v.min,
                max=v.max,
                enum=tuple(v.enum) if v.enum is not None else None,
            ),
        )


@strawberry.input(description="A new contact list.")
class AccountListCreateInput:
    key: str = strawberry.field(description="1-64 letters, digits, '_' or '-', starting with a letter.")
    name: str | None = strawberry.field(default=None, description="Display name; defaults to the key.")


@strawberry.input(description="A new audience: a key and saved contact conditions.")
class AudienceCreateInput:
    key: str = strawberry.field(description="1-64 letters, digits, '_' or '-', starting with a letter.")
    name: str | None = strawberry.field(default=None, description="Display name; defaults to the key.")
    rule: ContactWhere = strawberry.field(description="The conditions, as contacts(where:) takes them.")


@strawberry.input(description="Which keys identify a contact: the primary key and secondary keys.")
class AccountIdentifierKeysInput:
    primary_key: str = strawberry.field(default="email", description="'email' or a unique attribute key.")
    secondary_keys: list[str] = strawberry.field(
        description="Further unique attribute keys refs may use (key:value).", default_factory=list
    )
