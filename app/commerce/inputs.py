"""GraphQL inputs of cart and order writes, converted to the use cases' plain values."""

from __future__ import annotations

import strawberry

from app.inputs import DateTimeFilter, copy_into
from app.scalars import JSON, DateTime

from .cart import CartData, LineItemData
from .orders import OrderData, OrderFilter


@strawberry.input(description="A product line: productID, sku, category and name are required.")
class LineItemInput:
    product_id: str = strawberry.field(description="The product's id in the shop.", name="productID")
    sku: str = strawberry.field(description="The stock keeping unit.")
    category: str = strawberry.field(description="The product's category.")
    name: str = strawberry.field(description="The product's name.")
    qty: int = strawberry.field(default=1, description="How many (at least 1).")
    item_price: float | None = strawberry.field(default=None, description="The price of one.")
    amount: float | None = strawberry.field(default=None, description="Defaults to qty x itemPrice.")
    description: str | None = strawberry.field(default=None, description="The product's description.")
    url: str | None = strawberry.field(default=None, description="The product's page.")
    images: list[str] | None = strawberry.field(default=None, description="Image URLs.")
    properties: JSON | None = strawberry.field(default=None, description="Further properties of the item.")
    attr: JSON | None = strawberry.field(default=None, description="Product attributes (size, colour...).")

    def to_data(self) -> LineItemData:
        return copy_into(LineItemData, self, images=tuple(self.images or ()))


@strawberry.input(description="The whole cart; it replaces the current one.")
class CartInput:
    mc_id: str | None = strawberry.field(
        description="The message the cart is attributed to.", default=None, name="mcID"
    )
    customer_id: str | None = strawberry.field(
        description="The shop's customer id.", default=None, name="customerID"
    )
    link_id: str | None = strawberry.field(
        description="The link the cart came from.", default=None, name="linkID"
    )
    url: str | None = strawberry.field(default=None, description="Where the cart is, in the shop.")
    items: list[LineItemInput] = strawberry.field(description="The items (replacing the cart's).")

    def to_data(self) -> CartData:
        return copy_into(CartData, self, items=tuple(i.to_data() for i in self.items))


@strawberry.input(description="Where an order ships.")
class ShippingAddressInput:
    name: str | None = strawberry.field(default=None, description="The recipient.")
    address: str | None = strawberry.field(default=None, description="Street and number.")
    city: str | None = strawberry.field(default=None, description="City.")
    state: str | None = strawberry.field(default=None, description="State or region.")
    postal_code: str | None = strawberry.field(default=None, description="Postal code.")
    country: str | None = strawberry.field(default=None, description="Country.")


@strawberry.input(description="An order of a contact; recording the same orderID again replaces it.")
class OrderInput:
    contact: str = strawberry.field(description="Contact ref.")
    order_id: str = strawberry.field(
        description="The shop's order id; recording it again updates the order.", name="orderID"
    )
    purchase_date: DateTime | None = strawberry.field(default=None, description="Defaults to now.")
    status: str | None = strawberry.field(default=None, description="The shop's status of the order.")
    items: list[LineItemInput] = strawberry.field(description="The items ordered.", default_factory=list)
    total_amount: float | None = strawberry.field(
        default=None, description="Defaults to the sum of the items."
    )
    shipping_address: ShippingAddressInput | None = strawberry.field(
        default=None, description="Where it ships."
    )
    properties: JSON | None = strawberry.field(default=None, description="Further properties of the order.")

    def to_data(self) -> OrderData:
        address = None
        if self.shipping_address is not None:
            a = self.shipping_address
            address = {"name": a.name, "address": a.address, "city": a.city, "state": a.state,
                       "postalCode": a.postal_code, "country": a.country}  # fmt: skip
        return copy_into(
            OrderData, self, items=tuple(i.to_data() for i in self.items), shipping_address=address
        )


@strawberry.input(description="Which orders to return; all given conditions must hold.")
class OrderWhere:
    contact: str | None = strawberry.field(default=None, description="Contact ref.")
    order_id: str | None = strawberry.field(description="This order.", default=None, name="orderID")
    status: str | None = strawberry.field(default=None, description="Orders in this status.")
    purchase_date: DateTimeFilter | None = strawberry.field(
        default=None, description="Placed in this time range."
    )

    def to_filter(self) -> OrderFilter:
        date = self.purchase_date.to_filter() if self.purchase_date else None
        return OrderFilter(self.contact, self.order_id, self.status, date)
