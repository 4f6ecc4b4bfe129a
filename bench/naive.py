"""The naive baseline for Q2: a plain Strawberry schema of the same shape whose resolvers
run one query per parent (activities and orders per contact, the message per activity),
no DataLoader, no caches. Run: python -m bench.naive PORT MONGODB_URI DATABASE"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import strawberry
import uvicorn
from pymongo import AsyncMongoClient
from strawberry.asgi import GraphQL
from strawberry.types import Info

ACCOUNT = "bench"
Doc = dict[str, Any]


@strawberry.type
class Message:
    id: str
    name: str | None


@strawberry.type
class Item:
    productID: str | None = None
    sku: str | None = None
    qty: int | None = None
    itemPrice: float | None = None


@strawberry.type
class Cart:
    items: list[Item]


@strawberry.type
class Activity:
    doc: strawberry.Private[Doc]

    @strawberry.field
    def action(self) -> str:
        return str(self.doc["action"])

    @strawberry.field
    def ats(self) -> datetime:
        value: datetime = self.doc["ats"]
        return value

    @strawberry.field(name="mcID")
    def mc_id(self) -> str | None:
        return self.doc.get("mcID")

    @strawberry.field
    async def message(self, info: Info[Any, None]) -> Message | None:
        if not self.doc.get("messageId"):
            return None
        found = await info.context["db"]["messages"].find_one(
            {"accountId": ACCOUNT, "_id": self.doc["messageId"]}
        )
        return Message(id=str(found["_id"]), name=found.get("name")) if found else None


@strawberry.type
class ActivityEdge:
    node: Activity


@strawberry.type
class ActivityConnection:
    edges: list[ActivityEdge]


@strawberry.type
class Order:
    orderID: str
    purchaseDate: datetime | None
    totalAmount: float | None
    items: list[Item]


@strawberry.type
class OrderEdge:
    node: Order


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]


def _items(values: list[Doc], keys: tuple[str, ...]) -> list[Item]:
    return [Item(**{k: v.get(k) for k in keys}) for v in values]


@strawberry.type
class Contact:
    doc: strawberry.Private[Doc]

    @strawberry.field(name="cID")
    def cid(self) -> str:
        return str(self.doc["_id"])

    @strawberry.field
    def email(self) -> str | None:
        address = (self.doc.get("channels") or {}).get("email", {}).get("address")
        return str(address) if address else None

    @strawberry.field
    def cart(self) -> Cart | None:
        cart = self.doc.get("cart")
        return Cart(items=_items(cart.get("items", []), ("productID", "qty", "itemPrice"))) if cart else None

    @strawberry.field
    async def activities(self, info: Info[Any, None], first: int = 10) -> ActivityConnection:
        cursor = info.context["db"]["activities"].find({"accountId": ACCOUNT, "cID": self.doc["_id"]})
        docs = await cursor.sort([("ats", -1), ("_id", -1)]).limit(first).to_list()
        return ActivityConnection(edges=[ActivityEdge(node=Activity(doc=d)) for d in docs])

    @strawberry.field
    async def orders(self, info: Info[Any, None], first: int = 5) -> OrderConnection:
        cursor = info.context["db"]["orders"].find({"accountId": ACCOUNT, "cID": self.doc["_id"]})
        docs = await cursor.sort([("purchaseDate", -1), ("_id", -1)]).limit(first).to_list()
        return OrderConnection(
            edges=[
                OrderEdge(
                    node=Order(
                        orderID=d["orderID"],
                        purchaseDate=d.get("purchaseDate"),
                        totalAmount=d.get("totalAmount"),
                        items=_items(d.get("items", []), ("sku", "qty", "itemPrice")),
                    )
                )
                for d in docs
            ]
        )


@strawberry.type
class ContactEdge:
    node: Contact


@strawberry.type
class ContactConnection:
    edges: list[ContactEdge]


@strawberry.type
class Query:
    @strawberry.field
    async def contacts(self, info: Info[Any, None], first: int = 25) -> ContactConnection:
        cursor = info.context["db"]["contacts"].find({"accountId": ACCOUNT})
        docs = await cursor.sort("_id", 1).limit(first).to_list()
        return ContactConnection(edges=[ContactEdge(node=Contact(doc=d)) for d in docs])


schema = strawberry.Schema(query=Query)


class NaiveView(GraphQL[dict[str, Any], None]):
    def __init__(self, db: Any) -> None:
        super().__init__(schema)
        self.db = db

    async def get_context(self, request: Any, response: Any) -> dict[str, Any]:
        return {"db": self.db}


def main() -> None:
    port, uri, database = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    client: AsyncMongoClient[Doc] = AsyncMongoClient(uri, tz_aware=True)
    uvicorn.run(NaiveView(client[database]), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
