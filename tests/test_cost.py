"""Query cost (requested before running, actual after), the single-request budget, the
per-key leaky bucket and the root-field limit: refusals happen before any database command."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.settings import Settings
from tests.conftest import Api, CommandCounter, app_client, email_contact

NESTED = """{ contacts(first: 50) { edges { node { cID
  cart { items { productID } }
  activities(first: 10) { edges { node { action message { id } } } }
  orders(first: 5) { edges { node { orderID items { sku } } } } } } } }"""


@pytest.fixture
async def key(api: Api) -> str:
    return await api.account("acme")


async def cost(api: Api, key: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body = await api.gql(query, variables, key=key)
    result: dict[str, Any] = body["extensions"]["cost"]
    return result


async def test_requested_cost_counts_first_items_per_connection_and_actual_counts_what_came(
    api: Api, key: str
) -> None:
    await api.contacts("acme", email_contact("a@example.com"), email_contact("b@example.com"))

    bare = await cost(api, key, "{ contacts(first: 50) { totalCount edges { node { cID email } } } }")
    # the connection, then 50 x (edge + node); scalars are free
    assert bare["requestedQueryCost"] == 1 + 50 * 2
    assert bare["actualQueryCost"] == 1 + 2 * 2
    by_variable = await cost(
        api, key, "query($n: Int) { contacts(first: $n) { edges { node { cID } } } }", {"n": 7}
    )
    assert by_variable["requestedQueryCost"] == 1 + 7 * 2
    default_page = await cost(api, key, "{ contacts { edges { node { cID } } } }")
    assert default_page["requestedQueryCost"] == 1 + 25 * 2

    nested = await cost(api, key, NESTED)
    per_contact = 2 + 1 + 10 + (1 + 10 * 3) + (1 + 5 * (2 + 10))  # edge+node, cart+items, activities, orders
    assert nested["requestedQueryCost"] == 1 + 50 * per_contact
    assert nested["actualQueryCost"] == 1 + 2 * (2 + 1 + 1)  # empty carts' connections only
    assert nested["throttleStatus"] == {
        "maximumAvailable": 200000.0,
        "currentlyAvailable": pytest.approx(200000.0 - nested["actualQueryCost"], abs=2000),
        "restoreRate": 50000.0,
    }


async def test_fragments_aliases_and_introspection(api: Api, key: str) -> None:
    await api.contacts("acme", email_contact("a@example.com"))
    query = """{ a: contacts(first: 2) { ...C } b: contacts(first: 3) { ...C } __schema { types { name } } }
      fragment C on ContactConnection { edges { node { cID } } }"""
    measured = await cost(api, key, query)
    assert measured["requestedQueryCost"] == (1 + 2 * 2) + (1 + 3 * 2)
    assert measured["actualQueryCost"] == (1 + 2) * 2


async def test_json_values_are_scalars_not_objects(api: Api, key: str) -> None:
    await api.contacts("acme", email_contact("a@example.com", supplements={"x": {"y": {"z": 1}}}))
    measured = await cost(api, key, '{ contact(ref: "a@example.com") { cID supplements attributes } }')
    assert (measured["requestedQueryCost"], measured["actualQueryCost"]) == (1, 1)


async def test_mutations_cost_ten_plus_one_per_list_element(api: Api, key: str) -> None:
    await api.contacts("acme", email_contact("a@example.com"))
    events = [{"contact": "a@example.com", "action": "browse"} for _ in range(30)]
    measured = await cost(
        api,
        key,
        "mutation($e: [EventInput!]!) { eventsRecord(inputs: $e) { userErrors { code } } }",
        {"e": events},
    )
    assert measured["requestedQueryCost"] == 10 + 30 + 1 + 10  # payload + estimated userErrors
    assert measured["actualQueryCost"] == 10 + 30 + 1


@pytest.fixture
async def tight(
    api: Api, settings: Settings, db_name: str
) -> AsyncIterator[tuple[httpx.AsyncClient, CommandCounter]]:
    key = await api.account("acme")
    counter = CommandCounter(db_name)
    small = settings.model_copy(
        update={
            "max_query_cost": 500,
            "rate_limit_capacity": 1000,
            "rate_limit_restore_rate": 100,
            "max_root_fields": 3,
        }
    )
    async with app_client(small, key=key, listeners=[counter]) as http:
        assert (await http.post("/graphql", json={"query": "{ account { id } }"})).status_code == 200
        counter.reset()
        yield http, counter


async def test_a_query_over_the_budget_is_refused_before_any_database_command(
    tight: tuple[httpx.AsyncClient, CommandCounter],
) -> None:
    http, counter = tight
    body = (
        await http.post("/graphql", json={"query": "{ contacts(first: 300) { edges { node { cID } } } }"})
    ).json()
    assert counter.names == []
    assert "data" not in body  # refused before execution: a request error
    [error] = body["errors"]
    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert "601" in error["message"]
    assert "500" in error["message"]
    assert body["extensions"]["cost"]["requestedQueryCost"] == 601
    assert body["extensions"]["cost"]["actualQueryCost"] is None


async def test_the_unused_part_of_a_request_is_refunded(
    tight: tuple[httpx.AsyncClient, CommandCounter],
) -> None:
    http, _ = tight
    heavy = {"query": "{ contacts(first: 240) { edges { node { cID } } } }"}  # requests 481 of 1,000
    for _ in range(10):
        body = (await http.post("/graphql", json=heavy)).json()
        assert "errors" not in body  # each pays only its actual cost (1): never throttled
        assert body["extensions"]["cost"]["actualQueryCost"] == 1
        assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] > 980


async def test_throttled_requests_get_a_retry_hint_and_no_database_command(
    api: Api, settings: Settings, db_name: str
) -> None:
    key = await api.account("acme")
    await api.contacts("acme", *[email_contact(f"c{i}@example.com") for i in range(300)])
    counter = CommandCounter(db_name)
    small = settings.model_copy(update={"rate_limit_capacity": 1000, "rate_limit_restore_rate": 1})
    query = {"query": "{ contacts(first: 300) { edges { node { cID } } } }"}  # really returns 601
    async with app_client(small, key=key, listeners=[counter]) as http:
        ok = (await http.post("/graphql", json=query)).json()
        assert ok["extensions"]["cost"]["actualQueryCost"] == 601
        assert ok["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == pytest.approx(399, abs=2)
        counter.reset()
        throttled = (await http.post("/graphql", json=query)).json()
        assert counter.names == []
        [error] = throttled["errors"]
        assert error["message"] == "Throttled"
        assert error["extensions"]["code"] == "THROTTLED"
        assert error["extensions"]["retryAfterSeconds"] == pytest.approx(202, abs=3)
        assert throttled["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] < 601
        # Another key has its own bucket.
        other = await api.account("acme")
        fine = await http.post("/graphql", json=query, headers={"Authorization": f"Bearer {other}"})
        assert "errors" not in fine.json()


async def test_too_many_root_fields_are_refused_fragments_included(
    tight: tuple[httpx.AsyncClient, CommandCounter],
) -> None:
    http, counter = tight
    query = "{ a: account { id } b: account { id } ...R } fragment R on Query { c: account { id } d: account { id } }"
    body = (await http.post("/graphql", json={"query": query})).json()
    assert counter.names == []
    assert "4 root fields; at most 3" in body["errors"][0]["message"]
    three = "{ a: account { id } ...R } fragment R on Query { c: account { id } d: account { id } }"
    assert "errors" not in (await http.post("/graphql", json={"query": three})).json()
