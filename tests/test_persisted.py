"""Persisted queries: APQ (hash, then query + hash, then hash alone) over POST and GET, and
safelist mode, where only the manifest's operations run (over websockets too)."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli import main as cli
from app.persisted import load_manifest, sha256
from app.settings import Settings
from tests.conftest import Api, CommandCounter, app_client, email_contact
from tests.live import graphql_ws, live_server

QUERY = "query Count { contacts { totalCount } }"
OTHER = "query Other { contacts { totalCount edges { cursor } } }"
SUBSCRIPTION = 'subscription Changed { contactChanged(ref: "a@example.com") { cID } }'


def persisted(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


async def test_automatic_persisted_queries_over_post_and_get(api: Api) -> None:
    key = await api.account("acme")
    await api.contacts("acme", email_contact("a@example.com"))
    headers = {"Authorization": f"Bearer {key}"}
    digest = sha256(QUERY)
    await api.ok("{ account { id } }", key=key)  # the key is known (and cached) from now on

    api.commands.reset()
    unknown = (
        await api.http.post("/graphql", json={"extensions": persisted(digest)}, headers=headers)
    ).json()
    assert unknown["errors"][0]["message"] == "PersistedQueryNotFound"
    assert code(unknown) == "PERSISTED_QUERY_NOT_FOUND"
    assert api.commands.names == []

    wrong = {"query": QUERY, "extensions": persisted(sha256(OTHER))}
    mismatch = (await api.http.post("/graphql", json=wrong, headers=headers)).json()
    assert code(mismatch) == "PERSISTED_QUERY_HASH_MISMATCH"

    registered = {"query": QUERY, "extensions": persisted(digest)}
    assert (await api.http.post("/graphql", json=registered, headers=headers)).json()["data"] == {
        "contacts": {"totalCount": 1}
    }
    by_hash = (
        await api.http.post("/graphql", json={"extensions": persisted(digest)}, headers=headers)
    ).json()
    assert by_hash["data"] == {"contacts": {"totalCount": 1}}
    params = {"extensions": json.dumps(persisted(digest))}
    over_get = await api.http.get("/graphql", params=params, headers={**headers, "Accept": "*/*"})
    assert over_get.status_code == 200
    assert over_get.json()["data"] == {"contacts": {"totalCount": 1}}

    version = (
        await api.http.post(
            "/graphql", json={"extensions": {"persistedQuery": {"version": 2}}}, headers=headers
        )
    ).json()
    assert code(version) == "PERSISTED_QUERY_VERSION_NOT_SUPPORTED"
    # The mismatched query was never remembered under the other hash.
    other = (
        await api.http.post("/graphql", json={"extensions": persisted(sha256(OTHER))}, headers=headers)
    ).json()
    assert code(other) == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_persisted_mutation_still_cannot_run_over_get(api: Api) -> None:
    key = await api.account("acme")
    headers = {"Authorization": f"Bearer {key}"}
    mutation = 'mutation { contactCreate(input: {channels: {email: {address: "x@example.com"}}}) { userErrors { code } } }'
    await api.http.post(
        "/graphql", json={"query": mutation, "extensions": persisted(sha256(mutation))}, headers=headers
    )
    assert await api.db["contacts"].count_documents({"accountId": "acme"}) == 1
    response = await api.http.get(
        "/graphql", params={"extensions": json.dumps(persisted(sha256(mutation)))}, headers=headers
    )
    assert response.status_code in (400, 405)
    assert await api.db["contacts"].count_documents({"accountId": "acme"}) == 1


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    documents = []
    for name, text in (("count.graphql", QUERY), ("changed.graphql", SUBSCRIPTION)):
        (tmp_path / name).write_text(text + "\n")
        documents.append(str(tmp_path / name))
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli(["safelist", *documents]) == 0
    path = tmp_path / "manifest.json"
    path.write_text(out.getvalue())
    return path


@pytest.fixture
async def safelisted(
    api: Api, settings: Settings, db_name: str, manifest: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, CommandCounter]]:
    key = await api.account("acme")
    await api.contacts("acme", email_contact("a@example.com"))
    counter = CommandCounter(db_name)
    strict = settings.model_copy(update={"persisted_queries": "safelist", "safelist_file": manifest})
    async with app_client(strict, key=key, listeners=[counter]) as http:
        yield http, counter


async def test_safelist_mode_runs_only_the_manifest_operations(
    safelisted: tuple[httpx.AsyncClient, CommandCounter],
) -> None:
    http, counter = safelisted
    assert (await http.post("/graphql", json={"extensions": persisted(sha256(QUERY))})).json()["data"] == {
        "contacts": {"totalCount": 1}
    }
    assert (await http.post("/graphql", json={"query": QUERY})).json()["data"] == {
        "contacts": {"totalCount": 1}
    }

    counter.reset()
    refused = [
        await http.post("/graphql", json={"query": OTHER}),
        await http.post("/graphql", json={"query": QUERY + " "}),  # not the exact text
        await http.post("/graphql", json={"extensions": persisted(sha256(OTHER))}),
        await http.post("/graphql", json={"query": OTHER, "extensions": persisted(sha256(OTHER))}),
    ]
    assert [code(r.json()) for r in refused] == [
        "QUERY_NOT_IN_SAFELIST",
        "QUERY_NOT_IN_SAFELIST",
        "PERSISTED_QUERY_NOT_IN_LIST",
        "PERSISTED_QUERY_NOT_IN_LIST",  # and it is not registered either
    ]
    assert all("data" not in r.json() for r in refused)  # request errors: no data entry
    assert counter.names == []
    assert code((await http.post("/graphql", json={"extensions": persisted(sha256(OTHER))})).json()) == (
        "PERSISTED_QUERY_NOT_IN_LIST"
    )


async def test_safelist_mode_applies_to_subscriptions(api: Api, settings: Settings, manifest: Path) -> None:
    key = await api.account("acme")
    await api.contacts("acme", email_contact("a@example.com"))
    strict = settings.model_copy(update={"persisted_queries": "safelist", "safelist_file": manifest})
    async with live_server(strict) as url, graphql_ws(url, payload={"Authorization": f"Bearer {key}"}) as ws:
        assert (await ws.receive())["type"] == "connection_ack"
        await ws.subscribe("1", 'subscription { contactChanged(ref: "a@example.com") { email } }')
        message = await ws.receive()
        assert message["type"] == "error"
        assert message["payload"][0]["extensions"]["code"] == "QUERY_NOT_IN_SAFELIST"
        await ws.subscribe("2", SUBSCRIPTION)
        await asyncio.sleep(0.3)  # the change stream is open
        add = """mutation { cartItemAdd(ref: "a@example.com", item: {productID: "P", sku: "S", name: "N",
          category: "C", qty: 1, itemPrice: 1}) { userErrors { code } } }"""
        await api.ok(add, key=key)
        message = await ws.receive()
        assert (message["type"], message["id"]) == ("next", "2")
        assert message["payload"]["data"]["contactChanged"]["cID"]


def test_a_manifest_whose_ids_do_not_match_is_refused(tmp_path: Path, manifest: Path) -> None:
    data = json.loads(manifest.read_text())
    assert {op["name"] for op in data["operations"]} == {"Count", "Changed"}
    data["operations"][0]["body"] += " "
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="is not the sha256 of its body"):
        load_manifest(bad)
