"""Query fields of the commerce domain."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from app.auth import ScopeName, requires
from app.connection import Connection
from app.contacts.types import OrderSort
from app.errors import DomainError, InputError
from app.inputs import plain

from .inputs import OrderWhere
from .orders import list_orders
from .types import Order, OrderConnection


@strawberry.type
class CommerceQueries:
    @strawberry.field(
        description="The account's orders, newest first.",
        permission_classes=[requires(ScopeName.CONTACTS_READ)],
    )
    async def orders(
        self,
        info: Info[Any, None],
        where: OrderWhere | None = None,
        sort: OrderSort = OrderSort.PURCHASE_DATE_DESC,
        first: int | None = None,
        after: str | None = None,
    ) -> OrderConnection:
        ctx = info.context
        try:
            page, count = await list_orders(
                ctx.account_id,
                ctx.db,
                await ctx.config(),
                where=plain(where) if where else None,
                descending=sort is OrderSort.PURCHASE_DATE_DESC,
                first=first,
                after=after,
            )
        except DomainError as exc:
            raise InputError.from_domain(exc) from exc
        return Connection.build(page, Order.from_doc, count)
