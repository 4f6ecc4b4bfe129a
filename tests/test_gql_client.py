"""The Python `gql` client, as a backend-for-frontend uses it, against a running server:
queries and mutations over HTTP (with schema validation on the client from introspection),
a subscription over graphql-transport-ws, and errors as the client surfaces them."""

from __future__ import annotations

import asyncio

import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from app.settings import Settings
from tests.conftest import Api, email_contact
from tests.live import live_server

CONTACT = "query One($ref: String!) { contact(ref: $ref) { cID email cart { items { productID } } } }"
RECORD = """mutation Record($ref: String!, $n: Int!) {
  eventRecord(input: {contact: $ref, action: "browse", properties: {n: $n}}) { userErrors { code } } }"""
RECORDED = (
    'subscription Recorded { activityRecorded(where: {action: "browse"}) { action contact { email } } }'
)


async def test_http_queries_mutations_and_a_websocket_subscription(api: Api, settings: Settings) -> None:
    key = await api.account("acme")
    await api.contacts("acme", email_contact("a@example.com"))
    async with live_server(settings) as base:
        http = HTTPXAsyncTransport(url=f"{base}/graphql", headers={"Authorization": f"Bearer {key}"})
        async with Client(transport=http, fetch_schema_from_transport=True) as session:
            one = await session.execute(GraphQLRequest(CONTACT, variable_values={"ref": "a@example.com"}))
            assert one["contact"]["email"] == "a@example.com"
            with pytest.raises(TransportQueryError) as refused:
                await session.execute(GraphQLRequest('{ contact(ref: "") { cID } }'))
            assert refused.value.errors is not None
            assert refused.value.errors[0]["extensions"]["code"] == "CONTACTS_INVALID_PRIMARY_KEY"

            ws = WebsocketsTransport(
                url=base.replace("http://", "ws://") + "/graphql",
                init_payload={"Authorization": f"Bearer {key}"},
                subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
            )
            async with Client(transport=ws) as live:
                events = live.subscribe(GraphQLRequest(RECORDED))

                async def record() -> None:
                    for n in range(100):  # until the subscription's change stream is open
                        payload = await session.execute(
                            GraphQLRequest(RECORD, variable_values={"ref": "a@example.com", "n": n})
                        )
                        assert payload["eventRecord"]["userErrors"] == []
                        await asyncio.sleep(0.2)

                recorder = asyncio.create_task(record())
                try:
                    first = await asyncio.wait_for(anext(aiter(events)), timeout=30)
                finally:
                    recorder.cancel()
                assert first["activityRecorded"]["action"] == "browse"
                assert first["activityRecorded"]["contact"] == {"email": "a@example.com"}
