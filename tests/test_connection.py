"""Nested connections are built in their loader's batch: one command per level, each parent
its own connection, and a parent whose connection cannot be built gets that error alone. The
page query of a nested field is worked out once per operation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.connection import Connection, PageByParentLoader, ParentPage
from app.pagination import PerParentQuery, SortKey
from app.settings import Settings
from tests.conftest import Api, email_contact
from tests.live import graphql_ws, live_server

SORT = SortKey("ats", descending=True)


class Node:
    def __init__(self, doc: dict[str, Any]) -> None:
        if doc.get("broken"):
            raise ValueError(f"cannot render {doc['_id']}")
        self.doc = doc


async def test_each_parent_gets_its_connection_and_a_failure_stays_with_its_parent() -> None:
    batches: list[list[Any]] = []

    async def fetch(ids: list[Any]) -> dict[Any, ParentPage]:
        batches.append(ids)
        return {
            "a": ([{"_id": 1}, {"_id": 2}, {"_id": 3}], 7),
            "b": ([{"_id": 4, "broken": True}], 1),
        }

    loader = PageByParentLoader(fetch, PerParentQuery(match={}, sort=SORT, limit=2, after=None), Node)
    a, b, c = (loader.load(key) for key in ("a", "b", "c"))
    outcomes: list[Any] = await asyncio.gather(a, b, c, return_exceptions=True)
    first, second, third = outcomes

    assert batches == [["a", "b", "c"]]
    assert isinstance(first, Connection)
    assert [e.node.doc["_id"] for e in first.edges] == [1, 2]  # the third only says there is more
    assert first.page_info.has_next_page
    assert not first.page_info.has_previous_page
    assert await first.count_fn() == 7
    assert isinstance(second, ValueError)
    assert isinstance(third, Connection)
    assert third.edges == []
    assert await third.count_fn() == 0
    with pytest.raises(ValueError, match="cannot render 4"):
        await b


NESTED = """query Nested($n: Int!) { contacts(first: 5) { edges { node { email
  activities(first: $n) { edges { node { action } } }
  few: activities(first: 1) { edges { node { action } } } } } } }"""
RECORD = (
    'mutation($c: String!) { eventRecord(input: {contact: $c, action: "browse"}) { userErrors { code } } }'
)


async def test_a_nested_page_query_is_made_once_per_operation_not_once_per_connection(
    api: Api, settings: Settings
) -> None:
    # Every parent at one place shares the page query worked out for its field, so a second
    # operation on the same websocket context, with the same document and other variables,
    # and a sibling field with other arguments must each get their own.
    key = await api.account("acme")
    await api.contacts("acme", email_contact("a@example.com"), email_contact("b@example.com"))
    for contact in ("a@example.com", "b@example.com"):
        for _ in range(3):
            assert (await api.ok(RECORD, {"c": contact}, key=key))["eventRecord"]["userErrors"] == []

    def sizes(payload: dict[str, Any]) -> list[tuple[int, int]]:
        edges = payload["data"]["contacts"]["edges"]
        return [(len(e["node"]["activities"]["edges"]), len(e["node"]["few"]["edges"])) for e in edges]

    async with (
        live_server(settings) as base,
        graphql_ws(base, payload={"Authorization": f"Bearer {key}"}) as ws,
    ):
        assert (await ws.receive())["type"] == "connection_ack"
        for sid, n in (("1", 2), ("2", 3), ("3", 2)):
            await ws.subscribe(sid, NESTED, {"n": n})
            answer = await ws.receive()
            assert answer["type"] == "next", answer
            assert "errors" not in answer["payload"], answer
            assert sizes(answer["payload"]) == [(n, 1), (n, 1)]
            assert (await ws.receive())["type"] == "complete"


ORDER = """mutation($c: String!, $id: String!, $d: DateTime!) {
  orderRecord(input: {contact: $c, orderID: $id, purchaseDate: $d}) { userErrors { code } } }"""
DATES = """query($c: String!, $after: String) {
  activities(where: {contact: $c}) { edges { cursor node { id ats } } }
  contact(ref: $c) {
    activities(first: 2, after: $after) { edges { cursor node { id ats } } }
    orders { edges { cursor node { purchaseDate } } } } }"""


async def test_nested_pages_render_dates_and_cursors_as_every_other_read(api: Api) -> None:
    # Nested pages decode their dates naive (UTC as stored): the text and the cursors must
    # be those of the root connection, which reads them timezone-aware.
    key = await api.account("acme")
    await api.contacts("acme", email_contact("a@example.com"))
    for _ in range(3):
        assert (await api.ok(RECORD, {"c": "a@example.com"}, key=key))["eventRecord"]["userErrors"] == []
    for n, date in enumerate(("2025-01-09T17:47:43.123Z", "1999-12-31T23:59:59.000Z")):
        payload = await api.ok(ORDER, {"c": "a@example.com", "id": f"o{n}", "d": date}, key=key)
        assert payload["orderRecord"]["userErrors"] == []

    data = await api.ok(DATES, {"c": "a@example.com"}, key=key)
    root = data["activities"]["edges"]
    nested = data["contact"]["activities"]["edges"]
    assert nested == root[:2]
    dates = [e["node"]["purchaseDate"] for e in data["contact"]["orders"]["edges"]]
    assert dates == ["2025-01-09T17:47:43.123Z", "1999-12-31T23:59:59.000Z"]
    # A nested cursor pages on as the root's would.
    after = await api.ok(DATES, {"c": "a@example.com", "after": nested[1]["cursor"]}, key=key)
    assert after["contact"]["activities"]["edges"] == root[2:]
