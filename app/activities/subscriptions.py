"""activityRecorded: the caller's account's new activities, live; activityStream: the same,
resumable from a cursor without gap or duplicate (app.activities.stream). Both on MongoDB
change streams."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry

from app.auth import ScopeName, requires
from app.contacts.refs import find_by_ref
from app.context import Info
from app.errors import DomainError, ErrorCode
from app.graphql_errors import input_errors

from . import repository
from .filters import build_activity_filter
from .stream import activity_stream
from .types import Activity, ActivityWhere


@strawberry.type(description="One event of activityStream: where the stream is, and what happened.")
class ActivityStreamEvent:
    cursor: str = strawberry.field(
        description="Pass it as `after` to resume right after this event, from any gateway, later."
    )
    activity: Activity | None = strawberry.field(
        description="The activity recorded; null in a checkpoint (the first event of a stream "
        "started without `after`, and every 30 s of a quiet stream): only the cursor moves."
    )


async def _activity_query(info: Info, where: ActivityWhere | None) -> dict[str, Any]:
    ctx = info.context
    conditions = where.to_filter() if where else None
    ref = conditions.contact if conditions else None
    query = build_activity_filter(conditions)
    if ref is not None:
        contact = await find_by_ref(ctx.tenant, await ctx.identifier_keys(), ref)
        if contact is None:
            raise DomainError.one(
                ErrorCode.CONTACTS_CONTACT_NOT_FOUND, "Contact not found", ("where", "contact")
            )
        query["cID"] = contact["_id"]
    return query


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
        query = await _activity_query(info, where)
        async for doc in repository.watch_inserted(ctx.tenant, query):
            ctx.fresh()
            yield Activity.from_doc(doc)

    @strawberry.subscription(
        description="Activities matching `where`, resumable: without `after` from now, with `after` "
        "(an event's cursor) every matching activity recorded since, in order, then live, with no gap "
        "and no duplicate. A cursor older than the database's change history is "
        "ACTIVITY_STREAM_CURSOR_EXPIRED: re-sync with `activities` and subscribe again.",
        permission_classes=[requires(ScopeName.ACTIVITIES_READ)],
    )
    @input_errors
    async def activity_stream(
        self, info: Info, where: ActivityWhere | None = None, after: str | None = None
    ) -> AsyncGenerator[ActivityStreamEvent, None]:
        ctx = info.context
        query = await _activity_query(info, where)
        async for cursor, doc in activity_stream(ctx.tenant, query, after):
            ctx.fresh()
            yield ActivityStreamEvent(cursor=cursor, activity=Activity.from_doc(doc) if doc else None)
