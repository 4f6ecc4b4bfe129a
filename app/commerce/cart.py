"""Carts (embedded in the contact): set, clear, add an item, remove an item or some of it.

Reference rules: items need productID, sku, category and name; adding a productID that
is already in the cart raises its qty; removing by qty removes the item at 0; no cart
is CONTACTS_CART_NOT_FOUND, no such item CONTACTS_PRODUCT_NOT_FOUND.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.account.config import AccountConfig
from app.contacts.writes import mutate_contact
from app.db import Document
from app.errors import DomainError, ErrorCode, Problem
from app.tenant import Tenant

MAX_ITEMS = 1000
MAX_QTY = 1_000_000


@dataclass(frozen=True, slots=True)
class LineItemData:
    product_id: str
    sku: str
    category: str
    name: str
    qty: int = 1
    item_price: float | None = None
    amount: float | None = None
    description: str | None = None
    url: str | None = None
    images: tuple[str, ...] = ()
    properties: object = None  # JSON objects, as the caller sent them: problems() checks them
    attr: object = None

    def problems(self, path: tuple[str, ...]) -> list[Problem]:
        found = [
            Problem(ErrorCode.VALIDATION_ERROR, f"{name} cannot be empty", (*path, name))
            for name, value in (
                ("productID", self.product_id),
                ("sku", self.sku),
                ("category", self.category),
                ("name", self.name),
            )
            if not value.strip()
        ]
        if not 1 <= self.qty <= MAX_QTY:
            found.append(
                Problem(ErrorCode.VALIDATION_ERROR, f"qty must be between 1 and {MAX_QTY}", (*path, "qty"))
            )
        for name, value in (("properties", self.properties), ("attr", self.attr)):
            if value is not None and not isinstance(value, dict):
                found.append(Problem(ErrorCode.VALIDATION_ERROR, f"{name} must be an object", (*path, name)))
        for name, number in (("itemPrice", self.item_price), ("amount", self.amount)):
            if number is not None and number < 0:
                found.append(Problem(ErrorCode.VALIDATION_ERROR, f"{name} cannot be negative", (*path, name)))
        return found

    def to_doc(self) -> Document:
        doc: Document = {"productID": self.product_id, "sku": self.sku, "category": self.category,
                         "name": self.name, "qty": self.qty}  # fmt: skip
        optional = {"itemPrice": self.item_price, "amount": self.amount, "description": self.description,
                    "url": self.url, "properties": self.properties, "attr": self.attr}  # fmt: skip
        doc.update({k: v for k, v in optional.items() if v is not None})
        if self.images:
            doc["images"] = list(self.images)
        return doc


@dataclass(frozen=True, slots=True)
class CartData:
    items: tuple[LineItemData, ...]
    mc_id: str | None = None
    customer_id: str | None = None
    link_id: str | None = None
    url: str | None = None
    path: tuple[str, ...] = field(default=("input",))


async def set_cart(tenant: Tenant, config: AccountConfig, ref: str, cart: CartData) -> Document:
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, item in enumerate(cart.items):
        problems.extend(item.problems((*cart.path, "items", str(i))))
        if item.product_id in seen:
            problems.append(
                Problem(
                    ErrorCode.VALIDATION_ERROR,
                    f"productID {item.product_id!r} is listed twice",
                    (*cart.path, "items", str(i), "productID"),
                )
            )
        seen.add(item.product_id)
    if len(cart.items) > MAX_ITEMS:
        problems.append(
            Problem(ErrorCode.VALIDATION_ERROR, f"At most {MAX_ITEMS} items", (*cart.path, "items"))
        )
    if problems:
        raise DomainError(problems)

    def change(current: Document, now: datetime) -> Document:
        doc: Document = {"items": [i.to_doc() for i in cart.items], "lastModified": now}
        optional = {
            "mcID": cart.mc_id,
            "customerID": cart.customer_id,
            "linkID": cart.link_id,
            "url": cart.url,
        }
        doc.update({k: v for k, v in optional.items() if v is not None})
        return {**current, "cart": doc}

    return await _mutate(tenant, config, ref, change)


async def clear_cart(tenant: Tenant, config: AccountConfig, ref: str) -> Document:
    def change(current: Document, now: datetime) -> Document:
        _require_cart(current)
        return {k: v for k, v in current.items() if k != "cart"}

    return await _mutate(tenant, config, ref, change)


async def add_item(tenant: Tenant, config: AccountConfig, ref: str, item: LineItemData) -> Document:
    problems = item.problems(("item",))
    if problems:
        raise DomainError(problems)

    def change(current: Document, now: datetime) -> Document:
        cart = dict(current.get("cart") or {"items": []})
        items = [dict(i) for i in cart.get("items") or []]
        for existing in items:
            if existing["productID"] == item.product_id:
                _set_qty(existing, min(MAX_QTY, int(existing.get("qty", 1)) + item.qty))
                break
        else:
            if len(items) >= MAX_ITEMS:
                raise DomainError.one(ErrorCode.VALIDATION_ERROR, f"At most {MAX_ITEMS} items", ("item",))
            items.append(item.to_doc())
        return {**current, "cart": {**cart, "items": items, "lastModified": now}}

    return await _mutate(tenant, config, ref, change)


async def remove_item(
    tenant: Tenant, config: AccountConfig, ref: str, product_id: str, qty: int | None
) -> Document:
    if qty is not None and qty < 1:
        raise DomainError.one(ErrorCode.VALIDATION_ERROR, "qty must be at least 1", ("qty",))

    def change(current: Document, now: datetime) -> Document:
        cart = _require_cart(current)
        items = [dict(i) for i in cart.get("items") or []]
        match = next((i for i in items if i["productID"] == product_id), None)
        if match is None:
            raise DomainError.one(
                ErrorCode.CONTACTS_PRODUCT_NOT_FOUND, "Product does not exist", ("productID",)
            )
        left = 0 if qty is None else int(match.get("qty", 1)) - qty
        if left <= 0:
            items.remove(match)
        else:
            _set_qty(match, left)
        return {**current, "cart": {**cart, "items": items, "lastModified": now}}

    return await _mutate(tenant, config, ref, change)


def _require_cart(contact: Document) -> Document:
    cart = contact.get("cart")
    if not cart:
        raise DomainError.one(ErrorCode.CONTACTS_CART_NOT_FOUND, "Cart does not exist", ("ref",))
    return dict(cart)


def _set_qty(item: Document, qty: int) -> None:
    """A new quantity; a stored amount follows it (qty x itemPrice, or pro rata)."""
    old = int(item.get("qty", 1))
    item["qty"] = qty
    if item.get("itemPrice") is not None:
        item["amount"] = round(qty * float(item["itemPrice"]), 2)
    elif item.get("amount") is not None and old:
        item["amount"] = round(float(item["amount"]) * qty / old, 2)


async def _mutate(tenant: Tenant, config: AccountConfig, ref: str, change: Any) -> Document:
    _, after = await mutate_contact(tenant, config, ref, change, path=("ref",))
    return after
