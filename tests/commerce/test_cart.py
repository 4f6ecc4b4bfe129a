"""Carts: the reference's two-item cart, adding PurplePlaid123123, removing it by qty and entirely."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId
from strawberry.relay import to_base64

from app.db import CONTACTS
from tests.conftest import Api, email_contact

CART = "cart { mcID customerID linkID url itemCount total lastModified items { productID sku category name qty itemPrice amount images properties attr } }"
ERRORS = "userErrors { field message code }"
SET = f"mutation($ref: String!, $input: CartInput!) {{ cartSet(ref: $ref, input: $input) {{ {CART} {ERRORS} }} }}"
ADD = f"mutation($ref: String!, $item: LineItemInput!) {{ cartItemAdd(ref: $ref, item: $item) {{ {CART} {ERRORS} }} }}"
REMOVE = f"mutation($ref: String!, $p: String!, $qty: Int) {{ cartItemRemove(ref: $ref, productID: $p, qty: $qty) {{ {CART} {ERRORS} }} }}"
CLEAR = (
    f"mutation($ref: String!) {{ cartClear(ref: $ref) {{ contact {{ cart {{ itemCount }} }} {ERRORS} }} }}"
)
REF = "email:msmith@example.com"

REFERENCE_CART: dict[str, Any] = {
    "mcID": "264:590261c7f0c360ee35a8046f:ot:5900ddf2ac0c81178189d93b:1",
    "customerID": "1234",
    "linkID": "1234",
    "url": "http:example.com",
    "items": [
        {
            "productID": "GreenPlaid123123", "name": "Green Plaid", "sku": "111222333", "category": "Shirts",
            "qty": 2, "images": ["image1.jpg", "image2.jpg"], "itemPrice": 10.99, "amount": 21.98,
            "description": "Awesome shirt", "url": "http://www.shirts.com/GreenPlaid123123",
            "attr": {"size": "small", "color": "green"}, "properties": {"style": "v-neck", "material": "cotton"},
        },
        {
            "productID": "BluePlaid123123", "name": "Blue Plaid", "sku": "111222444", "category": "Shirts",
            "qty": 1, "itemPrice": 10.99, "amount": 10.99, "description": "Awesome shirt",
            "url": "http://www.shirts.com/BluePlaid123123",
            "attr": {"size": "small", "color": "blue"}, "properties": {"style": "v-neck", "material": "cotton"},
        },
    ],
}  # fmt: skip
PURPLE = {
    "productID": "PurplePlaid123123", "name": "Green Plaid", "sku": "111222333", "category": "Shirts", "qty": 2,
    "images": ["image1.jpg", "image2.jpg"], "itemPrice": 10.99, "amount": 21.98, "description": "Awesome shirt",
    "url": "http://www.shirts.com/PurplePlaid123123", "properties": {"size": "large", "color": "Purple"},
}  # fmt: skip


@pytest.fixture
async def msmith(api: Api, key: str) -> ObjectId:
    [cid] = await api.contacts("acme", email_contact("msmith@example.com"))
    return cid


async def run(api: Api, key: str, query: str, name: str, **variables: Any) -> dict[str, Any]:
    data = await api.ok(query, {"ref": REF, **variables}, key=key)
    payload: dict[str, Any] = data[name]
    return payload


async def stored_cart(api: Api, cid: ObjectId) -> dict[str, Any] | None:
    doc = await api.db[CONTACTS].find_one({"_id": cid})
    assert doc is not None
    cart: dict[str, Any] | None = doc.get("cart")
    return cart


async def test_reference_two_item_cart(api: Api, key: str, msmith: ObjectId) -> None:
    payload = await run(api, key, SET, "cartSet", input=REFERENCE_CART)

    assert payload["userErrors"] == []
    cart = payload["cart"]
    assert (cart["itemCount"], cart["total"], cart["mcID"], cart["customerID"]) == (
        3,
        32.97,
        REFERENCE_CART["mcID"],
        "1234",
    )
    assert [i["productID"] for i in cart["items"]] == ["GreenPlaid123123", "BluePlaid123123"]
    assert cart["items"][0]["attr"] == {"size": "small", "color": "green"}
    stored = await stored_cart(api, msmith)
    assert stored is not None
    assert [(i["productID"], i["qty"], i["amount"]) for i in stored["items"]] == [
        ("GreenPlaid123123", 2, 21.98),
        ("BluePlaid123123", 1, 10.99),
    ]
    contact = await api.db[CONTACTS].find_one({"_id": msmith})
    assert contact is not None
    assert contact["version"] == 2


async def test_reference_add_purple_then_remove_by_qty_then_entirely(
    api: Api, key: str, msmith: ObjectId
) -> None:
    await run(api, key, SET, "cartSet", input=REFERENCE_CART)

    added = await run(api, key, ADD, "cartItemAdd", item=PURPLE)
    added_again = await run(api, key, ADD, "cartItemAdd", item={**PURPLE, "qty": 1, "amount": None})
    minus_one = await run(api, key, REMOVE, "cartItemRemove", p="PurplePlaid123123", qty=1)
    removed = await run(api, key, REMOVE, "cartItemRemove", p="PurplePlaid123123")

    def purple(payload: dict[str, Any]) -> tuple[int, float] | None:
        item = next((i for i in payload["cart"]["items"] if i["productID"] == "PurplePlaid123123"), None)
        return (item["qty"], item["amount"]) if item else None

    assert purple(added) == (2, 21.98)
    assert purple(added_again) == (3, 32.97)  # the same productID raises qty
    assert purple(minus_one) == (2, 21.98)
    assert purple(removed) is None
    assert removed["cart"]["itemCount"] == 3
    stored = await stored_cart(api, msmith)
    assert stored is not None
    assert [i["productID"] for i in stored["items"]] == ["GreenPlaid123123", "BluePlaid123123"]


async def test_removing_down_to_zero_removes_the_item(api: Api, key: str, msmith: ObjectId) -> None:
    await run(api, key, SET, "cartSet", input=REFERENCE_CART)

    payload = await run(api, key, REMOVE, "cartItemRemove", p="BluePlaid123123", qty=5)

    assert [i["productID"] for i in payload["cart"]["items"]] == ["GreenPlaid123123"]


async def test_adding_to_a_contact_without_a_cart_creates_one(api: Api, key: str, msmith: ObjectId) -> None:
    payload = await run(api, key, ADD, "cartItemAdd", item=PURPLE)

    assert payload["cart"]["itemCount"] == 2
    assert payload["cart"]["lastModified"] is not None


async def test_no_cart_and_no_product_errors(api: Api, key: str, msmith: ObjectId) -> None:
    no_cart = await run(api, key, REMOVE, "cartItemRemove", p="X")
    clear_none = await run(api, key, CLEAR, "cartClear")
    await run(api, key, SET, "cartSet", input=REFERENCE_CART)
    no_product = await run(api, key, REMOVE, "cartItemRemove", p="Nope")
    bad_qty = await run(api, key, REMOVE, "cartItemRemove", p="BluePlaid123123", qty=0)

    assert no_cart["userErrors"][0]["code"] == "CONTACTS_CART_NOT_FOUND"
    assert clear_none["userErrors"][0]["code"] == "CONTACTS_CART_NOT_FOUND"
    assert no_product["userErrors"][0] == {
        "field": ["productID"],
        "message": "Product does not exist",
        "code": "CONTACTS_PRODUCT_NOT_FOUND",
    }
    assert bad_qty["userErrors"][0]["code"] == "VALIDATION_ERROR"
    stored = await stored_cart(api, msmith)
    assert stored is not None
    assert len(stored["items"]) == 2


async def test_cart_clear(api: Api, key: str, msmith: ObjectId) -> None:
    await run(api, key, SET, "cartSet", input=REFERENCE_CART)

    payload = await run(api, key, CLEAR, "cartClear")

    assert payload == {"contact": {"cart": None}, "userErrors": []}
    assert await stored_cart(api, msmith) is None


async def test_items_need_product_id_sku_category_and_name_and_nothing_is_stored(
    api: Api, key: str, msmith: ObjectId
) -> None:
    green: dict[str, Any] = REFERENCE_CART["items"][0]
    bad = {**REFERENCE_CART, "items": [{**green, "sku": " ", "name": ""}, green]}

    payload = await run(api, key, SET, "cartSet", input=bad)

    assert [(e["field"], e["message"]) for e in payload["userErrors"]] == [
        (["input", "items", "0", "sku"], "sku cannot be empty"),
        (["input", "items", "0", "name"], "name cannot be empty"),
        (["input", "items", "1", "productID"], "productID 'GreenPlaid123123' is listed twice"),
    ]
    assert await stored_cart(api, msmith) is None


async def test_unknown_contact(api: Api, key: str, msmith: ObjectId) -> None:
    data = await api.ok(ADD, {"ref": "nobody@example.com", "item": PURPLE}, key=key)

    assert data["cartItemAdd"]["userErrors"][0]["code"] == "CONTACTS_CONTACT_NOT_FOUND"


async def test_a_cart_has_an_id_stable_per_contact(api: Api, key: str, msmith: ObjectId) -> None:
    """Normalising client caches (Apollo Client, Relay) need it."""
    added = await api.ok(
        "mutation($ref: String!, $item: LineItemInput!) { cartItemAdd(ref: $ref, item: $item) { cart { id } } }",
        {"ref": REF, "item": PURPLE},
        key=key,
    )
    read = await api.ok(f'{{ contact(ref: "{REF}") {{ cart {{ id itemCount }} }} }}', key=key)

    assert (
        added["cartItemAdd"]["cart"]["id"] == read["contact"]["cart"]["id"] == to_base64("Cart", str(msmith))
    )
