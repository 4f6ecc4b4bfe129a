"""GraphQL types of the commerce domain: the cart and orders."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from app.connection import Connection, DocNode, Stored, doc_field
from app.context import Info
from app.db import Document
from app.scalars import JSON, DateTime

from . import repository

if TYPE_CHECKING:
    from app.contacts.types import Contact


@strawberry.type(description="A product in a cart or an order.")
class LineItem:
    product_id: str = strawberry.field(description="The product's id in the shop.", name="productID")
    sku: str | None = strawberry.field(description="The stock keeping unit.")
    category: str | None = strawberry.field(description="The product's category.")
    name: str | None = strawberry.field(description="The product's name.")
    description: str | None = strawberry.field(description="The product's description.")
    qty: int = strawberry.field(description="How many.")
    item_price: float | None = strawberry.field(description="The price of one.")
    amount: float | None = strawberry.field(description="qty x itemPrice unless given.")
    url: str | None = strawberry.field(description="The product's page.")
    images: list[str] = strawberry.field(description="Image URLs.")
    properties: JSON | None = strawberry.field(description="Further properties of the item.")
    attr: JSON | None = strawberry.field(description="Product attributes (size, colour...).")

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
    mc_id: str | None = strawberry.field(description="The message the cart is attributed to.", name="mcID")
    customer_id: str | None = strawberry.field(description="The shop's customer id.", name="customerID")
    link_id: str | None = strawberry.field(description="The link the cart came from.", name="linkID")
    url: str | None = strawberry.field(description="Where the cart is, in the shop.")
    items: list[LineItem] = strawberry.field(description="The items, in the order added.")
    last_modified: DateTime | None = strawberry.field(description="When the cart last changed.")

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
    name: str | None = strawberry.field(description="The recipient.")
    address: str | None = strawberry.field(description="Street and number.")
    city: str | None = strawberry.field(description="City.")
    state: str | None = strawberry.field(description="State or region.")
    postal_code: str | None = strawberry.field(description="Postal code.")
    country: str | None = strawberry.field(description="Country.")


@strawberry.type(description="An order placed by a contact.")
class Order(DocNode):
    doc: strawberry.Private[Document]
    lookup = repository.find_by_node_ids

    order_id = doc_field(
        "orderID",
        str,
        description="The shop's order id (unique in the account).",
        name="orderID",
        required=True,
        convert=str,
    )

    cid = doc_field("cID", str, description="The contact's id.", name="cID", required=True, convert=str)

    purchase_date = doc_field("purchaseDate", DateTime, description="When it was placed.", required=True)

    status = doc_field("status", str | None, description="The shop's status of the order.")

    @strawberry.field(description="The items ordered.")
    def items(self) -> list[LineItem]:
        return [LineItem.from_doc(i) for i in self.doc.get("items") or []]

    total_amount = doc_field(
        "totalAmount", float | None, description="The sum of qty x itemPrice over the items."
    )

    @strawberry.field(description="Where it ships.")
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

    properties = doc_field("properties", JSON | None, description="Further properties of the order.")

    @strawberry.field(description="The contact who placed it.")
    async def contact(self, info: Info) -> Annotated[Contact, strawberry.lazy("app.contacts.types")] | None:
        from app.contacts.types import contact_by_id

        return await contact_by_id(info, self.doc["cID"])


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
