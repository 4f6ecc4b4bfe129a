"""activityRecorded: the caller's account's new activities, live (MongoDB change streams)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from app.auth import ScopeName, requires
from app.contacts.refs import find_by_ref
from app.context import Info
from app.errors import DomainError, ErrorCode
from app.graphql_errors import input_errors
from app.inputs import plain

from . import repository
from .filters import build_activity_filter
from .types import Activity, ActivityWhere


@strawberry.type
class ActivitySubscriptions:
    @strawberry.subscription(
        description="Activities recorded from now on in the caller's account, matching `where`.",
        permission_classes=[requires(ScopeName.ACTIVITIES_READ)],
    )
    @input_errors
    async def activity_recorded(
        self, info: Info, where: ActivityWhere | None = None
    ) -> AsyncGenerator[Activity, None]:
        ctx = info.context
        conditions = dict(plain(where) if where else {})
        ref = conditions.pop("contact", None)
        query = build_activity_filter(conditions)
        if ref is not None:
            contact = await find_by_ref(ctx.account_id, ctx.db, await ctx.identifier_keys(), ref)
            if contact is None:
                raise DomainError.one(
                    ErrorCode.CONTACTS_CONTACT_NOT_FOUND, "Contact not found", ("where", "contact")
                )
            query["cID"] = contact["_id"]
        async for doc in repository.watch_inserted(ctx.account_id, ctx.db, query):
            ctx.fresh()
            yield Activity.from_doc(doc)
