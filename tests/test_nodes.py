"""nodes(ids:): many objects by global id, in order, one command per type, scoped and checked."""

from __future__ import annotations

from datetime import UTC, datetime

from strawberry.relay import to_base64

from app.auth import ScopeName
from app.commerce import repository as orders
from app.tenant import Tenant
from tests.conftest import Api, email_contact

NODES = """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
  ... on Contact { email } ... on Order { orderID } } }"""


async def test_nodes_come_in_order_with_nulls_and_one_command_per_type(api: Api) -> None:
    key = await api.account("acme")
    await api.account("other")
    a, b = await api.contacts("acme", email_contact("a@example.com"), email_contact("b@example.com"))
    [theirs] = await api.contacts("other", email_contact("a@example.com"))
    await orders.insert_many(
        Tenant("acme", api.db), [{"cID": a, "orderID": "O1", "purchaseDate": datetime.now(UTC), "items": []}]
    )
    order = await api.db["orders"].find_one({"orderID": "O1"})
    assert order is not None
    ids = [
        to_base64("Contact", str(b)),
        to_base64("Order", str(order["_id"])),
        to_base64("Contact", str(theirs)),  # another account's: null
        to_base64("Contact", "not-an-id"),
        to_base64("Contact", str(a)),
    ]
    await api.ok("{ account { id } }", key=key)
    api.commands.reset()

    data = await api.ok(NODES, {"ids": ids}, key=key)

    assert [n and (n.get("email") or n.get("orderID")) for n in data["nodes"]] == [
        "b@example.com", "O1", None, None, "a@example.com"
    ]  # fmt: skip
    assert sorted(api.commands.names) == ["find", "find"]  # contacts, orders


async def test_nodes_are_checked_like_node_and_bounded(api: Api) -> None:
    narrow = await api.account("acme", frozenset({ScopeName.CONTACTS_READ}))
    activity = to_base64("Activity", "65f0c0ffee0000000000000a")
    body = await api.gql(NODES, {"ids": [activity]}, key=narrow)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    many = [to_base64("Contact", "65f0c0ffee0000000000000a")] * 101
    body = await api.gql(NODES, {"ids": many}, key=narrow)
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
