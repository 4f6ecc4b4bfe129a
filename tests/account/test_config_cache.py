"""The account configuration cache: a ref lookup reads the account and its attribute types
once per process and TTL, changes made through this process apply at once, and changes
made elsewhere (another replica) within the TTL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from app.settings import Settings
from tests.conftest import Api, CommandCounter, app_client, email_contact

CONTACT = 'query { contact(ref: "a@example.com") { cID } }'
DEFINE = """mutation { accountAttributeCreate(input: {key: "tier", type: STRING}) { userErrors { code } } }"""
USE = """mutation { contactUpdate(ref: "a@example.com", input: {attributes: [{key: "tier", value: "gold"}]})
  { userErrors { code } contact { attribute(key: "tier") } } }"""


@pytest.fixture
async def cached(
    api: Api, settings: Settings, db_name: str
) -> AsyncIterator[tuple[httpx.AsyncClient, CommandCounter]]:
    key = await api.account("acme")
    await api.contacts("acme", email_contact("a@example.com"))
    counter = CommandCounter(db_name)
    async with app_client(
        settings.model_copy(update={"account_cache_s": 0.5}), key=key, listeners=[counter]
    ) as http:
        yield http, counter


async def test_a_ref_lookup_reads_the_configuration_once_per_ttl(
    cached: tuple[httpx.AsyncClient, CommandCounter],
) -> None:
    http, counter = cached
    await http.post("/graphql", json={"query": CONTACT})
    counter.reset()
    await http.post("/graphql", json={"query": CONTACT})
    assert [(name, c.get(name)) for name, c in counter.commands] == [("find", "contacts")]
    await asyncio.sleep(0.6)
    counter.reset()
    await http.post("/graphql", json={"query": CONTACT})
    assert sorted(c[name] for name, c in counter.commands) == ["accounts", "contacts"]


async def test_a_change_made_here_applies_at_once_and_one_made_elsewhere_within_the_ttl(
    api: Api, cached: tuple[httpx.AsyncClient, CommandCounter]
) -> None:
    http, _ = cached
    unknown = (await http.post("/graphql", json={"query": USE})).json()["data"]["contactUpdate"]
    assert unknown["userErrors"]  # the attribute is not defined yet (and that read is now cached)
    assert (await http.post("/graphql", json={"query": DEFINE})).json()["data"]["accountAttributeCreate"] == {
        "userErrors": []
    }
    used = (await http.post("/graphql", json={"query": USE})).json()["data"]["contactUpdate"]
    assert used == {"userErrors": [], "contact": {"attribute": "gold"}}

    # Another replica adds a list: this process sees it once the TTL has passed.
    await api.db["lists"].insert_one({"accountId": "acme", "key": "vip", "name": "VIP"})
    join = 'mutation { contactUpdate(ref: "a@example.com", input: {lists: [{key: "vip", member: true}]}) { userErrors { code } } }'
    await asyncio.sleep(0.6)
    assert (await http.post("/graphql", json={"query": join})).json()["data"]["contactUpdate"][
        "userErrors"
    ] == []
