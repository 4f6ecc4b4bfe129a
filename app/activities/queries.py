"""Query fields of the activities domain."""

from __future__ import annotations

import strawberry

from app.auth import ScopeName, requires
from app.connection import Connection, node_projection
from app.context import Info
from app.graphql_errors import input_errors

from .listing import list_activities
from .types import ACTIVITY_FIELDS, Activity, ActivityConnection, ActivitySort, ActivityWhere


@strawberry.type
class ActivityQueries:
    @strawberry.field(
        description="The account's activities, newest first (ties broken by id); at most 10,000 a page.",
        permission_classes=[requires(ScopeName.ACTIVITIES_READ)],
    )
    @input_errors
    async def activities(
        self,
        info: Info,
        where: ActivityWhere | None = None,
        sort: ActivitySort = ActivitySort.ATS_DESC,
        first: int | None = None,
        after: str | None = None,
    ) -> ActivityConnection:
        ctx = info.context
        page, count = await list_activities(
            ctx.tenant,
            await ctx.identifier_keys(),
            where=where.to_filter() if where else None,
            direction=sort.value,
            first=first,
            after=after,
            fields=node_projection(info, ACTIVITY_FIELDS, ("_id", "ats")),
        )
        return Connection.build(page, Activity.from_doc, count)
