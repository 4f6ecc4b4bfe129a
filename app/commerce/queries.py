"""Query fields of the commerce domain."""

from __future__ import annotations

import strawberry

from app.auth import ScopeName, requires
from app.connection import Connection
from app.contacts.types import OrderSort
from app.context import Info
from app.graphql_errors import input_errors

from .inputs import OrderWhere
from .orders import list_orders
from .types import Order, OrderConnection


@strawberry.type
class CommerceQueries:
    @strawberry.field(
        description="The account's orders, newest first.",
        permission_classes=[requires(ScopeName.CONTACTS_READ)],
    )
    @input_errors
    async def orders(
        self,
        info: Info,
        where: OrderWhere | None = None,
        sort: OrderSort = OrderSort.PURCHASE_DATE_DESC,
        first: int | None = None,
        after: str | None = None,
    ) -> OrderConnection:
        ctx = info.context
        page, count = await list_orders(
            ctx.tenant,
            await ctx.config(),
            where=where.to_filter() if where else None,
            descending=sort is OrderSort.PURCHASE_DATE_DESC,
            first=first,
            after=after,
        )
        return Connection.build(page, Order.from_doc, count)
