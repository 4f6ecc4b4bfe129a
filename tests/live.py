"""A real server for tests that need one: uvicorn serving create_app() on a free port of
127.0.0.1, inside the test's event loop, and a graphql-transport-ws client."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from app.main import create_app
from app.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def live_server(settings: Settings) -> AsyncIterator[str]:
    """Yields the base URL (http://127.0.0.1:PORT)."""
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


class GraphQLWebSocket:
    """Just enough graphql-transport-ws to subscribe and read messages."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(orjson.dumps(message).decode())

    async def receive(self, timeout: float = 10) -> dict[str, Any]:  # noqa: ASYNC109 - per message
        while True:
            message: dict[str, Any] = orjson.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            return message

    async def subscribe(self, sid: str, query: str, variables: dict[str, Any] | None = None) -> None:
        await self.send(
            {"id": sid, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}}
        )


@asynccontextmanager
async def graphql_ws(
    base_url: str, *, payload: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> AsyncIterator[GraphQLWebSocket]:
    url = base_url.replace("http://", "ws://") + "/graphql"
    async with connect(
        url, subprotocols=[Subprotocol("graphql-transport-ws")], additional_headers=headers
    ) as ws:
        client = GraphQLWebSocket(ws)
        await client.send({"type": "connection_init", "payload": payload or {}})
        yield client
