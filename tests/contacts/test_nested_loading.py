"""Nested cart, orders and activities: batched per level (one command each, whatever N),
newest first, with per-contact totalCount and cursors."""

from __future__ import annotations

import gc
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from app.activities import repository as activities
from app.commerce import repository as orders
from app.tenant import Tenant
from tests.conftest import Api, email_contact

T0 = datetime(2025, 1, 1, tzinfo=UTC)
NESTED = """query($n: Int!) { contacts(first: $n) { edges { node {
  cID
  cart { itemCount total items { productID qty amount } }
  orders(first: 2) { totalCount edges { node { orderID purchaseDate items { productID } } } }
  activities(first: 3) { totalCount pageInfo { hasNextPage endCursor }
                         edges { node { action ats mcID trackingType contact { cID } } } }
} } } }"""


@pytest.fixture
async def fifty(api: Api) -> tuple[str, list[ObjectId]]:
    key = await api.account("acme")
    docs = []
    for i in range(50):
        doc = email_contact(f"c{i:02d}@example.com")
        if i % 2 == 0:
            doc["cart"] = {
                "items": [
                    {"productID": "P1", "qty": 2, "itemPrice": 10.99},
                    {"productID": "P2", "qty": 1, "itemPrice": 5.0, "amount": 4.5},
                ]
            }
        docs.append(doc)
    cids = await api.contacts("acme", *docs)
    events, placed = [], []
    for i, cid in enumerate(cids):
        for k in range(i % 7 + 1):  # contact i has i % 7 + 1 activities
            action = ("message-sent", "open", "click", "browse")[k % 4]
            events.append({"cID": cid, "action": action, "ats": T0 + timedelta(hours=k), "mcID": f"m{k}"})
        for k in range(i % 4):  # and i % 4 orders
            placed.append(
                {"cID": cid, "orderID": f"O{i}-{k}", "purchaseDate": T0 + timedelta(days=k), "items": []}
            )
    await activities.insert_many(Tenant("acme", api.db), events)
    await orders.insert_many(Tenant("acme", api.db), placed)
    return key, cids


async def count_commands(api: Api, key: str, n: int) -> list[str]:
    await api.ok("{ account { id } }", key=key)  # the key's lastUsedAt is fresh from here on
    api.commands.reset()
    data = await api.ok(NESTED, {"n": n}, key=key)
    assert len(data["contacts"]["edges"]) == n
    return [f"{name}:{command[name]}" for name, command in api.commands.commands]


async def test_database_commands_do_not_grow_with_the_number_of_contacts(
    api: Api, fifty: tuple[str, list[ObjectId]]
) -> None:
    key, _ = fifty

    five = await count_commands(api, key, 5)
    all_fifty = await count_commands(api, key, 50)

    assert five == all_fifty
    # (the key is cached) the contacts page, one aggregation for all orders, one for all activities,
    # one find for every Activity.contact of the page
    assert sorted(all_fifty) == sorted(
        ["find:contacts", "aggregate:orders", "aggregate:activities", "find:contacts"]
    )


async def test_each_contact_gets_its_own_newest_activities_and_orders(
    api: Api, fifty: tuple[str, list[ObjectId]]
) -> None:
    key, cids = fifty

    data = await api.ok(NESTED, {"n": 50}, key=key)

    for i, edge in enumerate(data["contacts"]["edges"]):
        node = edge["node"]
        assert node["cID"] == str(cids[i])
        total = i % 7 + 1
        acts = node["activities"]
        assert acts["totalCount"] == total
        assert [a["node"]["mcID"] for a in acts["edges"]] == [f"m{k}" for k in range(total - 1, -1, -1)][:3]
        assert all(a["node"]["contact"]["cID"] == str(cids[i]) for a in acts["edges"])
        assert acts["pageInfo"]["hasNextPage"] is (total > 3)
        assert node["orders"]["totalCount"] == i % 4
        assert [o["node"]["orderID"] for o in node["orders"]["edges"]] == [
            f"O{i}-{k}" for k in range(i % 4 - 1, -1, -1)
        ][:2]


async def test_cart_totals(api: Api, fifty: tuple[str, list[ObjectId]]) -> None:
    key, _ = fifty

    data = await api.ok(NESTED, {"n": 2}, key=key)

    assert data["contacts"]["edges"][0]["node"]["cart"] == {
        "itemCount": 3,
        "total": 26.48,
        "items": [
            {"productID": "P1", "qty": 2, "amount": 21.98},
            {"productID": "P2", "qty": 1, "amount": 4.5},
        ],
    }
    assert data["contacts"]["edges"][1]["node"]["cart"] is None


async def test_tracking_types_map_the_reserved_actions(api: Api, fifty: tuple[str, list[ObjectId]]) -> None:
    key, cids = fifty

    data = await api.ok(
        "query($r: String!) { contact(ref: $r) { activities(first: 10, sort: ATS_ASC) { edges { node { action trackingType } } } } }",
        {"r": str(cids[6])},
        key=key,
    )

    pairs = [(e["node"]["action"], e["node"]["trackingType"]) for e in data["contact"]["activities"]["edges"]]
    assert pairs[:4] == [
        ("message-sent", "EM_SENDS"),
        ("open", "EM_OPENS"),
        ("click", "EM_CLICKS"),
        ("browse", None),
    ]


async def test_nested_cursor_pages_through_one_contacts_activities(
    api: Api, fifty: tuple[str, list[ObjectId]]
) -> None:
    key, cids = fifty
    query = """query($r: String!, $after: String) { contact(ref: $r) {
      activities(first: 3, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { mcID } } } } }"""
    seen: list[str] = []
    after = None
    while True:
        data = await api.ok(query, {"r": str(cids[6]), "after": after}, key=key)
        connection = data["contact"]["activities"]
        assert connection["totalCount"] == 7
        seen.extend(e["node"]["mcID"] for e in connection["edges"])
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]

    assert seen == [f"m{k}" for k in range(6, -1, -1)]


async def test_nested_activity_filters(api: Api, fifty: tuple[str, list[ObjectId]]) -> None:
    key, cids = fifty
    query = """query($r: String!, $where: ActivityWhere) { contact(ref: $r) {
      activities(first: 10, where: $where) { totalCount edges { node { mcID } } } } }"""

    async def mcids(where: dict[str, object]) -> list[str]:
        data = await api.ok(query, {"r": str(cids[6]), "where": where}, key=key)
        return [e["node"]["mcID"] for e in data["contact"]["activities"]["edges"]]

    assert await mcids({"action": "open"}) == ["m5", "m1"]
    assert await mcids({"actions": ["open", "click"]}) == ["m6", "m5", "m2", "m1"]
    assert await mcids({"trackingTypes": ["EM_SENDS"]}) == ["m4", "m0"]
    assert await mcids({"mcID": "m3"}) == ["m3"]
    assert await mcids({"ats": {"gte": "2025-01-01T02:00:00Z", "lt": "2025-01-01 04:00:00"}}) == ["m3", "m2"]


async def test_nested_page_size_and_cursor_errors_name_the_argument(
    api: Api, fifty: tuple[str, list[ObjectId]]
) -> None:
    key, _ = fifty

    too_big = await api.gql(
        "{ contacts(first: 1) { edges { node { activities(first: 10001) { totalCount } } } } }", key=key
    )
    bad_cursor = await api.gql(
        '{ contacts(first: 1) { edges { node { orders(after: "zz") { totalCount } } } } }', key=key
    )

    assert too_big["errors"][0]["extensions"] == {"code": "VALIDATION_ERROR", "field": ["first"]}
    assert bad_cursor["errors"][0]["extensions"] == {"code": "INVALID_CURSOR", "field": ["after"]}


async def test_node_fetches_contacts_activities_and_orders_by_global_id(
    api: Api, fifty: tuple[str, list[ObjectId]]
) -> None:
    key, _ = fifty
    data = await api.ok(
        "{ contacts(first: 3) { edges { node { id orders { edges { node { id } } } activities(first: 1) { edges { node { id } } } } } } }",
        key=key,
    )
    node = data["contacts"]["edges"][1]["node"]
    query = "query($id: ID!) { node(id: $id) { __typename id } }"

    for global_id, typename in (
        (node["id"], "Contact"),
        (node["orders"]["edges"][0]["node"]["id"], "Order"),
        (node["activities"]["edges"][0]["node"]["id"], "Activity"),
    ):
        assert await api.ok(query, {"id": global_id}, key=key) == {
            "node": {"__typename": typename, "id": global_id}
        }


def top_n_outputs(api: Api, collection: str) -> list[object]:
    return [
        stage["$group"]["items"]["$topN"]["output"]
        for name, command in api.commands.commands
        if name == "aggregate" and command["aggregate"] == collection
        for stage in command["pipeline"]
        if "$group" in stage
    ]


async def test_nested_pages_read_only_the_fields_the_selection_renders(
    api: Api, fifty: tuple[str, list[ObjectId]]
) -> None:
    key, _ = fifty
    await count_commands(api, key, 5)

    assert top_n_outputs(api, "activities") == [
        {f: f"${f}" for f in ("_id", "action", "ats", "cID", "mcID")}  # trackingType reads action
    ]
    assert top_n_outputs(api, "orders") == [{f: f"${f}" for f in ("_id", "items", "orderID", "purchaseDate")}]


async def test_only_ids_selected_reads_only_ids_and_the_sort_field(
    api: Api, fifty: tuple[str, list[ObjectId]]
) -> None:
    key, _ = fifty
    api.commands.reset()
    query = "{ contacts(first: 2) { edges { node { activities(first: 1) { edges { node { id __typename } } } } } } }"
    await api.ok(query, key=key)

    assert top_n_outputs(api, "activities") == [{"_id": "$_id", "ats": "$ats"}]


async def test_the_contact_found_by_ref_is_not_read_again_by_its_nested_fields(
    api: Api, fifty: tuple[str, list[ObjectId]]
) -> None:
    key, _ = fifty
    await api.ok("{ account { id } }", key=key)
    api.commands.reset()

    data = await api.ok(
        '{ contact(ref: "c06@example.com") { cID activities(first: 3) { edges { node { contact { email } } } } } }',
        key=key,
    )

    edges = data["contact"]["activities"]["edges"]
    assert [e["node"]["contact"]["email"] for e in edges] == ["c06@example.com"] * 3
    assert [n for n, c in api.commands.commands if c.get(n) == "contacts"] == ["find"]  # the lookup only


async def test_a_request_leaves_nothing_for_the_cycle_collector(
    api: Api, fifty: tuple[str, list[ObjectId]]
) -> None:
    """A read's objects (its context, loaders, documents, executor) are freed by reference
    counting when it ends: garbage only the cycle collector finds sets off collections that
    scan the requests in flight (a quarter of Q2's CPU before graphql-core's self-reference
    and a self-calling closure were dropped)."""
    key, _ = fifty
    await api.ok(NESTED, {"n": 50}, key=key)  # caches filled
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        await api.ok(NESTED, {"n": 50}, key=key)
        gc.collect()
        ours = Counter(
            f"{type(o).__module__}.{type(o).__qualname__}"
            for o in gc.garbage
            if not type(o).__module__.startswith(("httpx", "anyio", "asyncio"))  # the test's client
        )
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert sum(ours.values()) < 50, ours.most_common(10)  # before: ~2,300 objects
