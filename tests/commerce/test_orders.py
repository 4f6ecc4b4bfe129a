"""orderRecord (upsert by orderID) and the root orders query."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId

from app.db import ORDERS
from tests.conftest import Api, email_contact

RECORD = """mutation($input: OrderInput!) { orderRecord(input: $input) {
  created order { orderID cID purchaseDate status totalAmount items { productID qty amount } shippingAddress { city postalCode } properties contact { email } }
  userErrors { field message code } } }"""
ORDERS_QUERY = """query($where: OrderWhere, $sort: OrderSort, $first: Int, $after: String) {
  orders(where: $where, sort: $sort, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { orderID } } } }"""
ITEM = {"productID": "P1", "sku": "S1", "category": "Shirts", "name": "Shirt", "qty": 2, "itemPrice": 10.5}


@pytest.fixture
async def buyers(api: Api, key: str) -> tuple[ObjectId, ObjectId]:
    a, b = await api.contacts("acme", email_contact("a@example.com"), email_contact("b@example.com"))
    return a, b


async def record(api: Api, key: str, **given: Any) -> dict[str, Any]:
    data = await api.ok(RECORD, {"input": {"contact": "a@example.com", "orderID": "O1", **given}}, key=key)
    payload: dict[str, Any] = data["orderRecord"]
    return payload


async def test_record_creates_then_replaces_by_order_id(
    api: Api, key: str, buyers: tuple[ObjectId, ObjectId]
) -> None:
    a, _ = buyers

    first = await record(
        api, key, purchaseDate="2025-01-09 17:47:43", status="placed", items=[ITEM],
        shippingAddress={"city": "San Diego", "postalCode": "92101"}, properties={"channel": "web"},
    )  # fmt: skip
    second = await record(
        api, key, purchaseDate="2025-01-09 17:47:43", status="shipped", items=[ITEM], totalAmount=19.0
    )

    assert first["userErrors"] == []
    assert first["created"] is True
    order = first["order"]
    assert (order["orderID"], order["cID"], order["status"], order["totalAmount"]) == (
        "O1",
        str(a),
        "placed",
        21.0,
    )
    assert order["purchaseDate"] == "2025-01-09T17:47:43.000Z"
    assert order["items"] == [{"productID": "P1", "qty": 2, "amount": 21.0}]
    assert order["shippingAddress"] == {"city": "San Diego", "postalCode": "92101"}
    assert order["contact"] == {"email": "a@example.com"}
    assert second["created"] is False
    assert (second["order"]["status"], second["order"]["totalAmount"]) == ("shipped", 19.0)
    stored = await api.db[ORDERS].find({"accountId": "acme"}).to_list()
    assert [(o["orderID"], o["status"], o["cID"]) for o in stored] == [("O1", "shipped", a)]


async def test_an_order_id_of_another_contact_is_refused_and_untouched(
    api: Api, key: str, buyers: tuple[ObjectId, ObjectId]
) -> None:
    _, b = buyers
    await record(api, key, status="placed")

    data = await api.ok(
        RECORD, {"input": {"contact": "b@example.com", "orderID": "O1", "status": "stolen"}}, key=key
    )

    assert data["orderRecord"]["userErrors"][0]["code"] == "CONTACTS_ORDER_BELONGS_TO_ANOTHER_CONTACT"
    stored = await api.db[ORDERS].find_one({"orderID": "O1"})
    assert stored is not None
    assert stored["status"] == "placed"
    assert stored["cID"] != b


async def test_record_errors(api: Api, key: str, buyers: tuple[ObjectId, ObjectId]) -> None:
    unknown = await api.ok(RECORD, {"input": {"contact": "zz@example.com", "orderID": "O9"}}, key=key)
    malformed = await api.ok(RECORD, {"input": {"contact": "cID:1", "orderID": "O9"}}, key=key)
    bad_item = await record(api, key, items=[{**ITEM, "qty": 0}])
    bad_properties = await record(api, key, properties=["not", "an", "object"], items=[{**ITEM, "attr": "x"}])

    assert unknown["orderRecord"]["userErrors"][0]["code"] == "CONTACTS_CONTACT_NOT_FOUND"
    assert malformed["orderRecord"]["userErrors"][0]["field"] == ["input", "contact"]
    assert bad_item["userErrors"][0]["field"] == ["input", "items", "0", "qty"]
    assert [e["field"] for e in bad_properties["userErrors"]] == [
        ["input", "items", "0", "attr"],
        ["input", "properties"],
    ]
    assert await api.db[ORDERS].count_documents({}) == 0


async def test_root_orders_filters_sorts_and_pages(
    api: Api, key: str, buyers: tuple[ObjectId, ObjectId]
) -> None:
    for i, (who, status) in enumerate(
        [("a", "placed"), ("b", "shipped"), ("a", "shipped"), ("b", "placed"), ("a", "placed")]
    ):
        await api.ok(
            RECORD,
            {
                "input": {
                    "contact": f"{who}@example.com",
                    "orderID": f"O{i}",
                    "status": status,
                    "purchaseDate": f"2025-02-0{i + 1}T00:00:00Z",
                }
            },
            key=key,
        )

    async def ids(**variables: Any) -> tuple[int, list[str]]:
        data = await api.ok(ORDERS_QUERY, variables, key=key)
        return data["orders"]["totalCount"], [e["node"]["orderID"] for e in data["orders"]["edges"]]

    assert await ids() == (5, ["O4", "O3", "O2", "O1", "O0"])
    assert await ids(sort="PURCHASE_DATE_ASC") == (5, ["O0", "O1", "O2", "O3", "O4"])
    assert await ids(where={"contact": "a@example.com"}) == (3, ["O4", "O2", "O0"])
    assert await ids(where={"status": "shipped"}) == (2, ["O2", "O1"])
    assert await ids(where={"orderID": "O3"}) == (1, ["O3"])
    assert await ids(
        where={"purchaseDate": {"gte": "2025-02-02T00:00:00Z", "lt": "2025-02-04T00:00:00Z"}}
    ) == (2, ["O2", "O1"])
    assert await ids(where={"contact": "nobody@example.com"}) == (0, [])
    seen: list[str] = []
    after = None
    while True:
        data = await api.ok(ORDERS_QUERY, {"first": 2, "after": after}, key=key)
        seen += [e["node"]["orderID"] for e in data["orders"]["edges"]]
        if not data["orders"]["pageInfo"]["hasNextPage"]:
            break
        after = data["orders"]["pageInfo"]["endCursor"]
    assert seen == ["O4", "O3", "O2", "O1", "O0"]
