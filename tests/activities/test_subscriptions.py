"""Subscriptions end to end: a real server, a real websocket client (graphql-transport-ws),
MongoDB change streams behind them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from app.settings import Settings
from app.tenant import Tenant
from tests.conftest import Api, email_contact
from tests.live import GraphQLWebSocket, graphql_ws, live_server

RECORD = """mutation($c: String!, $a: String!, $p: Properties) { eventRecord(input: {contact: $c, action: $a, properties: $p}) {
  activity { id } userErrors { code } } }"""
RECORDED = """subscription($where: ActivityWhere) { activityRecorded(where: $where) {
  action cID properties contact { email } } }"""


async def post(base: str, key: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base) as http:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {key}"},
        )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


async def first_event(client: GraphQLWebSocket, record: Any) -> dict[str, Any]:
    """Record probe events until the subscription delivers one (its change stream is open)."""
    for attempt in range(50):
        await record(attempt)
        try:
            return await client.receive(timeout=0.3)
        except TimeoutError:
            continue
    raise AssertionError("the subscription never delivered an event")


async def test_activity_recorded_streams_only_the_callers_account(api: Api, settings: Settings) -> None:
    key_a = await api.account("alpha")
    key_b = await api.account("beta")
    await api.contacts("alpha", email_contact("a@example.com"))
    await api.contacts("beta", email_contact("b@example.com"))

    async with (
        live_server(settings) as base,
        graphql_ws(base, payload={"Authorization": f"Bearer {key_a}"}) as ws,
    ):
        assert (await ws.receive())["type"] == "connection_ack"
        await ws.subscribe("1", RECORDED, {"where": {"action": "browse"}})

        probe = await first_event(
            ws, lambda n: post(base, key_a, RECORD, {"c": "a@example.com", "a": "browse", "p": {"probe": n}})
        )
        await post(base, key_b, RECORD, {"c": "b@example.com", "a": "browse", "p": {"secret": True}})
        await post(base, key_a, RECORD, {"c": "a@example.com", "a": "cart", "p": {"filtered": True}})
        await post(base, key_a, RECORD, {"c": "a@example.com", "a": "browse", "p": {"sentinel": True}})
        events = []
        while True:
            message = await ws.receive()
            events.append(message["payload"]["data"]["activityRecorded"])
            if message["payload"]["data"]["activityRecorded"]["properties"].get("sentinel"):
                break

    assert probe["type"] == "next"
    assert probe["payload"]["data"]["activityRecorded"]["contact"] == {"email": "a@example.com"}
    assert all(e["action"] == "browse" and "secret" not in e["properties"] for e in events)
    assert events[-1]["properties"] == {"sentinel": True}


async def test_the_key_may_come_as_a_header_and_a_bad_key_is_rejected(api: Api, settings: Settings) -> None:
    key = await api.account("alpha")

    async with live_server(settings) as base:
        async with graphql_ws(base, headers={"Authorization": f"Bearer {key}"}) as ws:
            assert (await ws.receive())["type"] == "connection_ack"
        # A refused key closes with 4401 (graphql-ws does not retry it) and says why, whether
        # it came in connection_init or as the handshake's header.
        for given in (
            {"payload": {"Authorization": "Bearer cg_wrong"}},
            {"headers": {"Authorization": "Bearer cg_wrong"}},
        ):
            with pytest.raises(ConnectionClosed) as closed:
                async with graphql_ws(base, **given) as ws:
                    await ws.receive()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4401, given
            assert "API key" in closed.value.rcvd.reason, given


async def test_contact_changed_streams_updates_then_the_delete(api: Api, settings: Settings) -> None:
    key = await api.account("alpha")
    await api.contacts("alpha", email_contact("a@example.com", attributes={}))
    from app.account.attributes import AttributeDefinition, AttributeType, create_attribute

    await create_attribute(
        Tenant("alpha", api.db), AttributeDefinition("points", "Points", AttributeType.NUMBER)
    )
    update = 'mutation($n: Float!) { contactUpdate(ref: "a@example.com", input: {attributes: [{key: "points", inc: $n}]}) { userErrors { code } } }'

    async with (
        live_server(settings) as base,
        graphql_ws(base, payload={"Authorization": f"Bearer {key}"}) as ws,
    ):
        assert (await ws.receive())["type"] == "connection_ack"
        await ws.subscribe(
            "c",
            'subscription { contactChanged(ref: "a@example.com") { operation cID contact { attribute(key: "points") } } }',
        )
        first = await first_event(ws, lambda n: post(base, key, update, {"n": 1}))
        await post(base, key, 'mutation { contactDelete(ref: "a@example.com") { userErrors { code } } }', {})
        messages: list[dict[str, Any]] = []
        while not messages or messages[-1]["type"] != "complete":
            messages.append(await ws.receive())

    assert first["payload"]["data"]["contactChanged"]["operation"] == "UPDATED"
    assert first["payload"]["data"]["contactChanged"]["contact"]["attribute"] >= 1
    deleted = [
        m
        for m in messages
        if m["type"] == "next" and m["payload"]["data"]["contactChanged"]["operation"] == "DELETED"
    ]
    assert deleted[0]["payload"]["data"]["contactChanged"]["contact"] is None
    assert messages[messages.index(deleted[0]) + 1]["type"] == "complete"
