"""orderRecord: upsert an order by orderID for a contact."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.account.config import AccountConfig
from app.contacts.refs import find_by_ref
from app.db import Document
from app.errors import DomainError, ErrorCode, Problem
from app.pagination import Page, SortKey, empty_page, fetch_page
from app.query import TimeRange, time_condition
from app.tenant import Tenant

from . import repository
from .cart import MAX_ITEMS, LineItemData


@dataclass(frozen=True, slots=True)
class OrderData:
    contact: str
    order_id: str
    purchase_date: datetime | None = None
    status: str | None = None
    items: tuple[LineItemData, ...] = ()
    total_amount: float | None = None
    shipping_address: dict[str, Any] | None = None
    properties: object = None  # a JSON object, as the caller sent it: checked below
    path: tuple[str, ...] = field(default=("input",))


async def record_order(tenant: Tenant, config: AccountConfig, order: OrderData) -> tuple[Document, bool]:
    """Insert or replace the order; returns it and whether it was new."""
    problems: list[Problem] = []
    if not order.order_id.strip() or len(order.order_id) > 256:
        problems.append(
            Problem(ErrorCode.VALIDATION_ERROR, "orderID must be 1-256 characters", (*order.path, "orderID"))
        )
    for i, item in enumerate(order.items):
        problems.extend(item.problems((*order.path, "items", str(i))))
    if len(order.items) > MAX_ITEMS:
        problems.append(
            Problem(ErrorCode.VALIDATION_ERROR, f"At most {MAX_ITEMS} items", (*order.path, "items"))
        )
    if order.total_amount is not None and order.total_amount < 0:
        problems.append(
            Problem(
                ErrorCode.VALIDATION_ERROR, "totalAmount cannot be negative", (*order.path, "totalAmount")
            )
        )
    if order.properties is not None and not isinstance(order.properties, dict):
        problems.append(
            Problem(ErrorCode.VALIDATION_ERROR, "properties must be an object", (*order.path, "properties"))
        )
    if problems:
        raise DomainError(problems)
    try:
        contact = await find_by_ref(tenant, config.keys, order.contact)
    except DomainError as exc:
        raise DomainError(
            [Problem(p.code, p.message, (*order.path, "contact")) for p in exc.problems]
        ) from exc
    if contact is None:
        raise DomainError.one(
            ErrorCode.CONTACTS_CONTACT_NOT_FOUND, "Contact not found", (*order.path, "contact")
        )
    items = [i.to_doc() for i in order.items]
    total = order.total_amount
    if total is None:
        total = round(sum(i.get("amount", i["qty"] * i.get("itemPrice", 0.0)) for i in items), 2)
    doc: Document = {
        "cID": contact["_id"],
        "orderID": order.order_id,
        "purchaseDate": order.purchase_date or datetime.now(UTC),
        "status": order.status,
        "items": items,
        "totalAmount": total,
        "shippingAddress": order.shipping_address,
        "properties": order.properties or {},
        "lastModified": datetime.now(UTC),
    }
    stored, created = await repository.upsert_for_contact(tenant, doc)
    if stored["cID"] != contact["_id"]:
        raise DomainError.one(
            ErrorCode.CONTACTS_ORDER_BELONGS_TO_ANOTHER_CONTACT,
            f"Order {order.order_id!r} belongs to another contact",
            (*order.path, "orderID"),
        )
    return stored, created


@dataclass(frozen=True, slots=True)
class OrderFilter:
    """Which orders: every condition given must hold (``contact`` is a ref)."""

    contact: str | None = None
    order_id: str | None = None
    status: str | None = None
    purchase_date: TimeRange | None = None


async def list_orders(
    tenant: Tenant,
    config: AccountConfig,
    *,
    where: OrderFilter | None,
    descending: bool,
    first: int | None,
    after: str | None,
) -> tuple[Page, Callable[[], Awaitable[int]]]:
    """A page of the account's orders (newest first by default) and a counter of all matches."""
    sort = SortKey("purchaseDate", descending)
    query: Document = {}
    where = where or OrderFilter()
    if where.contact is not None:
        contact = await find_by_ref(tenant, config.keys, where.contact)
        if contact is None:
            return empty_page(sort, first, after)
        query["cID"] = contact["_id"]
    if where.order_id is not None:
        query["orderID"] = where.order_id
    if where.status is not None:
        query["status"] = where.status
    if where.purchase_date is not None:
        query["purchaseDate"] = time_condition(where.purchase_date, ("where", "purchaseDate"))
    return await fetch_page(repository.pages(tenant), query, sort, first, after)
