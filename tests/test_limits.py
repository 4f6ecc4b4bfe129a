"""Limits and production settings: over-limit requests are rejected before any database
command; production hides introspection, suggestions and fault details."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.settings import Settings
from tests.conftest import Api, CommandCounter, app_client


@pytest.fixture
async def limited(
    api: Api, settings: Settings, db_name: str
) -> AsyncIterator[tuple[httpx.AsyncClient, CommandCounter, str]]:
    """The app with small limits, the account's key warmed up (authentication is cached)."""
    key = await api.account("acme")
    counter = CommandCounter(db_name)
    tight = settings.model_copy(
        update={"max_query_depth": 6, "max_aliases": 3, "max_tokens": 400, "max_body_bytes": 100_000}
    )
    async with app_client(tight, key=key, listeners=[counter]) as http:
        assert (await http.post("/graphql", json={"query": "{ account { id } }"})).status_code == 200
        counter.reset()
        yield http, counter, key


async def attack(
    limited: tuple[httpx.AsyncClient, CommandCounter, str], body: Any, **kwargs: Any
) -> httpx.Response:
    http, counter, _ = limited
    counter.reset()
    response = (
        await http.post("/graphql", json=body, **kwargs)
        if body is not None
        else await http.post("/graphql", **kwargs)
    )
    assert counter.names == [], counter.names  # rejected before any database command
    return response


def nested(depth: int) -> str:
    """``depth`` nested fields: contact -> activities -> edges -> node -> contact -> ..."""
    cycle = ["activities", "edges", "node", "contact"]
    fields = ['contact(ref: "a@example.com")'] + [cycle[i % 4] for i in range(depth - 1)]
    return "{ " + " { ".join(fields) + " { __typename" + " }" * depth + " }"


def message(response: httpx.Response) -> str:
    body = response.json()
    return str(body["errors"][0]["message"])


async def test_depth_at_the_limit_passes_one_more_is_rejected(
    limited: tuple[httpx.AsyncClient, CommandCounter, str],
) -> None:
    http, _, _ = limited
    ok = await http.post("/graphql", json={"query": nested(6)})
    rejected = await attack(limited, {"query": nested(7)})

    assert "errors" not in ok.json(), ok.json()
    assert "exceeds maximum operation depth" in message(rejected)


async def test_aliases_counted_through_fragments(
    limited: tuple[httpx.AsyncClient, CommandCounter, str],
) -> None:
    query = "query { a: account { id } b: account { id } ...F } fragment F on Query { c: account { id } d: account { id } }"

    response = await attack(limited, {"query": query})

    assert "aliases" in message(response)


async def test_circular_fragments(limited: tuple[httpx.AsyncClient, CommandCounter, str]) -> None:
    query = "query { ...A } fragment A on Query { account { id } ...B } fragment B on Query { ...A }"

    response = await attack(limited, {"query": query})

    assert "Cannot spread fragment 'A' within itself" in message(response)


@pytest.mark.parametrize(
    "query",
    [
        "{ account { " + "id " * 1000 + "} }",  # 1,000 duplicate fields
        "{ account { id " + "@include(if: true) " * 300 + "} }",  # directive overloading
        "{ " + "__typename " * 2000 + "}",  # a token flood
    ],
)
async def test_token_floods(limited: tuple[httpx.AsyncClient, CommandCounter, str], query: str) -> None:
    response = await attack(limited, {"query": query})

    assert "token" in message(response).lower()


async def test_a_large_body_is_413(limited: tuple[httpx.AsyncClient, CommandCounter, str]) -> None:
    big = "x" * 2_000_000

    declared = await attack(limited, {"query": "{ account { id } }", "variables": {"pad": big}})

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the body is counted as it arrives
        for part in (b'{"query": "', b"x" * 150_000, b'"}'):
            yield part

    streamed = await attack(limited, None, content=chunks(), headers={"content-type": "application/json"})

    assert declared.status_code == streamed.status_code == 413
    assert declared.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_batches_and_mutations_over_get_are_refused(
    limited: tuple[httpx.AsyncClient, CommandCounter, str],
) -> None:
    http, counter, _ = limited
    batch = await attack(limited, [{"query": "{ account { id } }"}, {"query": "{ account { id } }"}])
    counter.reset()
    over_get = await http.get(
        "/graphql",
        params={"query": 'mutation { accountListCreate(input: {key: "x"}) { userErrors { code } } }'},
    )

    assert batch.status_code == 400
    assert over_get.status_code == 405  # the method is wrong, not the request
    assert counter.names == []


@pytest.mark.parametrize("body", [b'"{ account { id } }"', b"42", b"null", b"true", b"{", b"\xff"])
async def test_a_body_that_is_not_a_json_object_is_a_400(
    limited: tuple[httpx.AsyncClient, CommandCounter, str], body: bytes
) -> None:
    response = await attack(limited, None, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400


async def test_production_hides_introspection_suggestions_and_faults(
    api: Api, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    key = await api.account("acme")
    production = settings.model_copy(update={"env": "production"})
    caplog.set_level(logging.ERROR, logger="contactgraph.errors")
    async with app_client(production, key=key) as http:
        introspection = await http.post("/graphql", json={"query": "{ __schema { types { name } } }"})
        typo = await http.post("/graphql", json={"query": "{ acount { id } }"})
        ide = await http.get("/graphql", headers={"Accept": "text/html"})
        expected = await http.post("/graphql", json={"query": '{ contact(ref: "cID:zz") { cID } }'})
        # a fault: the account document is broken on purpose
        await api.db["accounts"].update_one({"_id": "acme"}, {"$set": {"secondaryKeys": 42}})
        fault = await http.post("/graphql", json={"query": '{ contact(ref: "x@example.com") { cID } }'})

    assert "introspection" in message(introspection).lower()
    assert "Did you mean" not in message(typo)
    assert ide.status_code != 200 or "graphiql" not in ide.text.lower()
    error = fault.json()["errors"][0]
    request_id = fault.headers["x-request-id"]
    assert error["message"] == f"Unexpected error; request id {request_id}"
    assert error["extensions"] == {"code": "INTERNAL_ERROR", "requestId": request_id}
    assert "Traceback" not in fault.text
    assert any(getattr(r, "request_id", None) == request_id for r in caplog.records)
    assert expected.json()["errors"][0]["extensions"]["code"] == "CONTACTS_INVALID_PRIMARY_KEY"
