"""GraphQL types of the account: identifier keys, attribute definitions, lists, audiences."""

from __future__ import annotations

from enum import Enum

import strawberry

from app.contacts.types import ContactWhere
from app.context import Info
from app.db import Document
from app.scalars import JSON

from . import repository
from .attributes import AttributeDefinition, AttributeType, Validators


@strawberry.enum(name="AttributeType", description="The type of an attribute's values.")
class AttributeTypeEnum(Enum):
    STRING = "string"
    NUMBER = "number"
    DATE = "date"
    GEO = "geo"
    ARRAY = "array"


@strawberry.type(description="Rules a new attribute value must pass (existing values are not revalidated).")
class AttributeValidators:
    required: bool
    pattern: str | None
    min: float | None
    max: float | None
    enum: list[str] | None


@strawberry.type(name="AttributeDefinition", description="A contact attribute the account defined.")
class AttributeDefinitionType:
    key: str
    name: str
    type: AttributeTypeEnum
    max_items: int | None
    validators: AttributeValidators

    @classmethod
    def from_model(cls, d: AttributeDefinition) -> AttributeDefinitionType:
        v = d.validators
        return cls(
            key=d.key,
            name=d.name,
            type=AttributeTypeEnum(d.type.value),
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
    key: str
    name: str


@strawberry.type(description="A saved set of contact conditions; use it as contacts(audience: key).")
class Audience:
    key: str
    name: str
    rule: JSON

    @classmethod
    def from_doc(cls, doc: Document) -> Audience:
        return cls(key=doc["key"], name=doc.get("name") or doc["key"], rule=JSON(doc.get("rule") or {}))


@strawberry.type(description="An event property and the first data type seen for it.")
class EventProperty:
    action: str
    key: str
    type: str
    searchable: bool


@strawberry.type(description="The caller's account and its configuration.")
class Account:
    id: str
    name: str
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

    @strawberry.field
    async def attributes(self, info: Info) -> list[AttributeDefinitionType]:
        definitions = await info.context.definitions()
        return [AttributeDefinitionType.from_model(d) for d in definitions.values()]

    @strawberry.field
    async def lists(self, info: Info) -> list[ContactList]:
        docs = await repository.list_lists(info.context.account_id, info.context.db)
        return [ContactList(key=d["key"], name=d.get("name") or d["key"]) for d in docs]

    @strawberry.field
    async def audiences(self, info: Info) -> list[Audience]:
        docs = await repository.list_audiences(info.context.account_id, info.context.db)
        return [Audience.from_doc(d) for d in docs]

    @strawberry.field
    async def event_properties(self, info: Info) -> list[EventProperty]:
        docs = await repository.list_event_properties(info.context.account_id, info.context.db)
        return [
            EventProperty(
                action=d["action"], key=d["key"], type=d["type"], searchable=d.get("searchable", True)
            )
            for d in docs
        ]


# -- inputs and payloads ----------------------------------------------------------------


@strawberry.input(description="Validators for a new attribute.")
class AttributeValidatorsInput:
    required: bool = False
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


@strawberry.input
class AccountAttributeCreateInput:
    key: str
    name: str | None = None
    type: AttributeTypeEnum
    max_items: int | None = strawberry.field(default=None, description="Arrays only; default 25.")
    validators: AttributeValidatorsInput | None = None

    def to_model(self) -> AttributeDefinition:
        v = self.validators or AttributeValidatorsInput()
        return AttributeDefinition(
            key=self.key,
            name=self.name or self.key,
            type=AttributeType(self.type.value),
            max_items=self.max_items,
            validators=Validators(
                required=v.required,
                pattern=v.pattern,
                min=v.min,
                max=v.max,
                enum=tuple(v.enum) if v.enum is not None else None,
            ),
        )


@strawberry.input
class AccountListCreateInput:
    key: str
    name: str | None = None


@strawberry.input
class AudienceCreateInput:
    key: str
    name: str | None = None
    rule: ContactWhere


@strawberry.input
class AccountIdentifierKeysInput:
    primary_key: str = "email"
    secondary_keys: list[str] = strawberry.field(default_factory=list)
