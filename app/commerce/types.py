"""GraphQL types of the commerce domain: the cart and orders."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, cast

import strawberry
from strawberry import relay

from app.connection import Connection, DocNode, Stored
from app.contacts.loaders import ContactByIdLoader
from app.context import Info
from app.db import Document
from app.scalars import JSON, DateTime

from . import repository

if TYPE_CHECKING:
    from app.contacts.types import Contact


@strawberry.type(description="A product in a cart or an order.")
class LineItem:
    product_id: str = strawberry.field(name="productID")
    sku: str | None
    category: str | None
    name: str | None
    description: str | None
    qty: int
    item_price: float | None
    amount: float | None = strawberry.field(description="qty x itemPrice unless given.")
    url: str | None
    images: list[str]
    properties: JSON | None
    attr: JSON | None

    @classmethod
    def from_doc(cls, doc: Document) -> LineItem:
        qty = int(doc.get("qty", 1))
        price = doc.get("itemPrice")
        amount = doc.get("amount")
        if amount is None and price is not None:
            amount = round(qty * float(price), 2)
        return cls(
            product_id=str(doc.get("productID", "")),
            sku=doc.get("sku"),
            category=doc.get("category"),
            name=doc.get("name"),
            description=doc.get("description"),
            qty=qty,
            item_price=price,
            amount=amount,
            url=doc.get("url"),
            images=list(doc.get("images") or []),
            properties=doc.get("properties"),
            attr=doc.get("attr"),
        )


@strawberry.type(description="A contact's shopping cart.")
class Cart:
    id: strawberry.ID = strawberry.field(
        description="Stable per contact (a contact has one cart), so that normalising client "
        "caches (Apollo Client, Relay) keep it."
    )
    mc_id: str | None = strawberry.field(name="mcID")
    customer_id: str | None = strawberry.field(name="customerID")
    link_id: str | None = strawberry.field(name="linkID")
    url: str | None
    items: list[LineItem]
    last_modified: DateTime | None

    @strawberry.field(description="Total quantity of all items.")
    def item_count(self) -> int:
        return sum(i.qty for i in self.items)

    @strawberry.field(description="Sum of the items' amounts (qty x itemPrice where amount is absent).")
    def total(self) -> float:
        return round(sum(i.amount or 0.0 for i in self.items), 2)

    @classmethod
    def from_contact(cls, contact: Document) -> Cart | None:
        """The contact's cart, or None when it has none."""
        doc = contact.get("cart")
        if not doc:
            return None
        return cls(
            id=strawberry.ID(relay.to_base64("Cart", str(contact["_id"]))),
            mc_id=doc.get("mcID"),
            customer_id=doc.get("customerID"),
            link_id=doc.get("linkID"),
            url=doc.get("url"),
            items=[LineItem.from_doc(i) for i in doc.get("items") or []],
            last_modified=doc.get("lastModified"),
        )


@strawberry.type(description="Where an order ships.")
class ShippingAddress:
    name: str | None
    address: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    country: str | None


@strawberry.type(description="An order placed by a contact.")
class Order(DocNode):
    node_id: relay.NodeID[str]
    doc: strawberry.Private[Document]

    @strawberry.field(name="orderID")
    def order_id(self) -> str:
        return str(self.doc["orderID"])

    @strawberry.field(name="cID")
    def cid(self) -> str:
        return str(self.doc["cID"])

    @strawberry.field
    def purchase_date(self) -> DateTime:
        return cast(DateTime, self.doc["purchaseDate"])

    @strawberry.field
    def status(self) -> str | None:
        return self.doc.get("status")

    @strawberry.field
    def items(self) -> list[LineItem]:
        return [LineItem.from_doc(i) for i in self.doc.get("items") or []]

    @strawberry.field
    def total_amount(self) -> float | None:
        return self.doc.get("totalAmount")

    @strawberry.field
    def shipping_address(self) -> ShippingAddress | None:
        a = self.doc.get("shippingAddress")
        if not a:
            return None
        return ShippingAddress(
            name=a.get("name"),
            address=a.get("address"),
            city=a.get("city"),
            state=a.get("state"),
            postal_code=a.get("postalCode"),
            country=a.get("country"),
        )

    @strawberry.field
    def properties(self) -> JSON | None:
        return self.doc.get("properties")

    @strawberry.field
    async def contact(self, info: Info) -> Annotated[Contact, strawberry.lazy("app.contacts.types")] | None:
        from app.contacts.types import Contact

        doc = await info.context.loaders.of(ContactByIdLoader).load(self.doc["cID"])
        return Contact.from_doc(doc) if doc else None

    @classmethod
    async def docs_for(cls, info: Info, node_ids: list[str]) -> list[Document | None]:
        return await repository.find_by_node_ids(info.context.account_id, info.context.db, node_ids)


OrderConnection = Connection[Order]

# The stored fields each Order field reads (projections of order pages).
ORDER_FIELDS: Stored = {
    "id": ("_id",),
    "orderID": ("orderID",),
    "cID": ("cID",),
    "purchaseDate": ("purchaseDate",),
    "status": ("status",),
    "items": ("items",),
    "totalAmount": ("totalAmount",),
    "shippingAddress": ("shippingAddress",),
    "properties": ("properties",),
    "contact": ("cID",),
}
