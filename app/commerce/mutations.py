"""Mutations of carts and orders: thin resolvers over the use cases."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from app.auth import ScopeName, requires
from app.contacts.types import Contact
from app.context import Info
from app.graphql_errors import Payload, user_errors_in

from .cart import add_item, clear_cart, remove_item, set_cart
from .inputs import CartInput, LineItemInput, OrderInput
from .orders import record_order
from .types import Cart, Order

WRITE = [requires(ScopeName.CONTACTS_WRITE)]


@strawberry.type(description="The result of a cart mutation: the contact and its cart.")
class CartPayload(Payload):
    contact: Contact | None = strawberry.field(default=None, description="The contact; null on failure.")
    cart: Cart | None = strawberry.field(
        default=None, description="The cart after the change; null when it is empty or on failure."
    )

    @classmethod
    def of(cls, doc: dict[str, Any]) -> CartPayload:
        return cls(contact=Contact.from_doc(doc), cart=Cart.from_contact(doc))


@strawberry.type(description="The result of orderRecord.")
class OrderRecordPayload(Payload):
    order: Order | None = strawberry.field(default=None, description="The order as stored; null on failure.")
    created: bool = strawberry.field(default=False, description="True when the order is new.")


@strawberry.type
class CommerceMutations:
    @strawberry.mutation(description="Replace the contact's cart.", permission_classes=WRITE)
    @user_errors_in(CartPayload)
    async def cart_set(self, info: Info, ref: str, input: CartInput) -> CartPayload:
        ctx = info.context
        return CartPayload.of(await set_cart(ctx.tenant, await ctx.config(), ref, input.to_data()))

    @strawberry.mutation(description="Remove the contact's cart.", permission_classes=WRITE)
    @user_errors_in(CartPayload)
    async def cart_clear(self, info: Info, ref: str) -> CartPayload:
        ctx = info.context
        return CartPayload.of(await clear_cart(ctx.tenant, await ctx.config(), ref))

    @strawberry.mutation(
        description="Add a product to the cart (creating the cart); a productID already there gains qty.",
        permission_classes=WRITE,
    )
    @user_errors_in(CartPayload)
    async def cart_item_add(self, info: Info, ref: str, item: LineItemInput) -> CartPayload:
        ctx = info.context
        return CartPayload.of(await add_item(ctx.tenant, await ctx.config(), ref, item.to_data()))

    @strawberry.mutation(
        description="Remove a product from the cart, or only qty of it (removed when it reaches 0).",
        permission_classes=WRITE,
    )
    @user_errors_in(CartPayload)
    async def cart_item_remove(
        self,
        info: Info,
        ref: str,
        product_id: Annotated[str, strawberry.argument(name="productID")],
        qty: int | None = None,
    ) -> CartPayload:
        ctx = info.context
        doc = await remove_item(ctx.tenant, await ctx.config(), ref, product_id, qty)
        return CartPayload.of(doc)

    @strawberry.mutation(description="Record an order (upsert by orderID).", permission_classes=WRITE)
    @user_errors_in(OrderRecordPayload)
    async def order_record(self, info: Info, input: OrderInput) -> OrderRecordPayload:
        ctx = info.context
        doc, created = await record_order(ctx.tenant, await ctx.config(), input.to_data())
        return OrderRecordPayload(order=Order.from_doc(doc), created=created)
