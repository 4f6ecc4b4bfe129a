"""contactChanged: one contact's changes, live (MongoDB change streams)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from enum import Enum

import strawberry

from app.auth import ScopeName, requires
from app.context import Info
from app.errors import DomainError, ErrorCode
from app.graphql_errors import input_errors

from . import repository
from .refs import find_by_ref
from .types import Contact


@strawberry.enum(description="What happened to a contact (contactChanged).")
class ContactOperation(Enum):
    UPDATED = "updated"
    DELETED = "deleted"


@strawberry.type(
    description="A change of a watched contact; `contact` is its state after it (null once deleted)."
)
class ContactChange:
    operation: ContactOperation = strawberry.field(description="What happened to the contact.")
    c_id: str = strawberry.field(description="The contact's id.", name="cID")
    contact: Contact | None = strawberry.field(description="The contact after the change; null once deleted.")


@strawberry.type
class ContactSubscriptions:
    @strawberry.subscription(
        description="Changes of one contact from now on; the stream ends after a delete.",
        permission_classes=[requires(ScopeName.CONTACTS_READ)],
    )
    @input_errors
    async def contact_changed(self, info: Info, ref: str) -> AsyncGenerator[ContactChange, None]:
        ctx = info.context
        contact = await find_by_ref(ctx.tenant, await ctx.identifier_keys(), ref)
        if contact is None:
            raise DomainError.one(ErrorCode.CONTACTS_CONTACT_NOT_FOUND, "Contact not found", ("ref",))
        cid = contact["_id"]
        async for change in repository.watch_contact(ctx.tenant, cid):
            ctx.fresh()
            if change["operationType"] == "delete":
                yield ContactChange(operation=ContactOperation.DELETED, c_id=str(cid), contact=None)
                return
            doc = change.get("fullDocument")
            if doc is None:  # deleted before the update could be looked up: the delete follows
                continue
            yield ContactChange(
                operation=ContactOperation.UPDATED, c_id=str(cid), contact=Contact.from_doc(doc)
            )
