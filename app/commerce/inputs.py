"""GraphQL inputs of cart and order writes, converted to the use cases' plain values."""

from __future__ import annotations

import strawberry

from app.inputs import DateTimeFilter
from app.scalars import JSON, DateTime

from .cart import CartData, LineItemData
from .orders import OrderData


@strawberry.input(description="A product line: productID, sku, category and name are required.")
class LineItemInput:
    product_id: str = strawberry.field(name="productID")
    sku: str
    category: str
    name: str
    qty: int = 1
    item_price: float | None = None
    amount: float | None = strawberry.field(default=None, description="Defaults to qty x itemPrice.")
    description: str | None = None
    url: str | None = None
    images: list[str] | None = None
    properties: JSON | None = None
    attr: JSON | None = None

    def to_data(self) -> LineItemData:
        return LineItemData(
            product_id=self.product_id,
            sku=self.sku,
            category=self.category,
            name=self.name,
            qty=self.qty,
            item_price=self.item_price,
            amount=self.amount,
            description=self.description,
            url=self.url,
            images=tuple(self.images or ()),
            properties=self.properties,
            attr=self.attr,
        )


@strawberry.input(description="The whole cart; it replaces the current one.")
class CartInput:
    mc_id: str | None = strawberry.field(default=None, name="mcID")
    customer_id: str | None = strawberry.field(default=None, name="customerID")
    link_id: str | None = strawberry.field(default=None, name="linkID")
    url: str | None = None
    items: list[LineItemInput]

    def to_data(self) -> CartData:
        return CartData(
            items=tuple(i.to_data() for i in self.items),
            mc_id=self.mc_id,
            customer_id=self.customer_id,
            link_id=self.link_id,
            url=self.url,
        )


@strawberry.input
class ShippingAddressInput:
    name: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


@strawberry.input(description="An order of a contact; recording the same orderID again replaces it.")
class OrderInput:
    contact: str = strawberry.field(description="Contact ref.")
    order_id: str = strawberry.field(name="orderID")
    purchase_date: DateTime | None = strawberry.field(default=None, description="Defaults to now.")
    status: str | None = None
    items: list[LineItemInput] = strawberry.field(default_factory=list)
    total_amount: float | None = strawberry.field(
        default=None, description="Defaults to the sum of the items."
    )
    shipping_address: ShippingAddressInput | None = None
    properties: JSON | None = None

    def to_data(self) -> OrderData:
        address = None
        if self.shipping_address is not None:
            a = self.shipping_address
            address = {"name": a.name, "address": a.address, "city": a.city, "state": a.state,
                       "postalCode": a.postal_code, "country": a.country}  # fmt: skip
        return OrderData(
            contact=self.contact,
            order_id=self.order_id,
            purchase_date=self.purchase_date,
            status=self.status,
            items=tuple(i.to_data() for i in self.items),
            total_amount=self.total_amount,
            shipping_address=address,
            properties=self.properties,
        )


@strawberry.input(description="Which orders to return; all given conditions must hold.")
class OrderWhere:
    contact: str | None = strawberry.field(default=None, description="Contact ref.")
    order_id: str | None = strawberry.field(default=None, name="orderID")
    status: str | None = None
    purchase_date: DateTimeFilter | None = None
