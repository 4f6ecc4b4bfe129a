"""The compiled executor (app/compiled) answers exactly what graphql-core's executor
answers: the same documents run on two apps over the same database, one with compiled
execution and one without (CONTACTGRAPH_COMPILED_EXECUTION=false), must give the same data,
errors and cost. Hand-written documents cover aliases, fragments, __typename, @skip and
@include, nulls, enums, scalars, errors and permissions; 150 generated ones (fixed seed)
cover random selections of the Contact, Activity and Order graphs."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from bson import ObjectId
from graphql import GraphQLNonNull, GraphQLObjectType, get_named_type, is_leaf_type, parse, validate

from app import cost
from app.activities import repository as activities
from app.auth import ScopeName
from app.commerce import repository as orders
from app.metrics import EXECUTIONS
from app.schema import schema
from app.settings import Settings
from app.tenant import Tenant
from tests.compiled import ordered
from tests.conftest import Api, CommandCounter, app_client, email_contact

T0 = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
MESSAGE = ObjectId()


@dataclass
class Two:
    compiled: Api
    standard: httpx.AsyncClient
    standard_commands: CommandCounter
    key: str
    narrow_key: str  # contacts:read only: no activities
    cids: list[ObjectId]

    async def both(self, query: str, variables: dict[str, Any] | None = None, key: str | None = None) -> Any:
        """Both answers, compared; returns the compiled one."""
        headers = {"Authorization": f"Bearer {key or self.key}"}
        payload = {"query": query, "variables": variables or {}}
        compiled = (await self.compiled.http.post("/graphql", json=payload, headers=headers)).json()
        standard = (await self.standard.post("/graphql", json=payload, headers=headers)).json()
        assert _comparable(compiled) == _comparable(standard), query
        return compiled


def _comparable(body: dict[str, Any]) -> dict[str, Any]:
    cost = (body.get("extensions") or {}).get("cost") or {}
    return {
        "data": ordered(body.get("data")),
        "errors": body.get("errors"),
        "cost": (cost.get("requestedQueryCost"), cost.get("actualQueryCost")),
    }


def executions(path: str) -> float:
    return float(EXECUTIONS.labels(path)._value.get())


@pytest.fixture
async def two(api: Api, settings: Settings) -> AsyncIterator[Two]:
    key = await api.account("acme")
    narrow = await api.account("acme", frozenset({ScopeName.CONTACTS_READ}))
    other = await api.account("other")
    assert other
    docs = []
    for i in range(8):
        doc = email_contact(
            f"c{i}@example.com",
            attributes={"first_name": f"F{i}", "age": 20 + i, "tags": ["a", "b"][: i % 3]} if i % 4 else {},
            lists=["vip"] if i % 2 else [],
        )
        if i % 3 == 0:
            doc["cart"] = {
                "mcID": "m-1",
                "items": [
                    {"productID": "P1", "qty": 2, "itemPrice": 10.99, "images": ["x.png"]},
                    {"productID": "P2", "qty": 1, "itemPrice": 5.0, "amount": 4.5, "properties": {"k": 1}},
                ],
            }
        if i == 5:
            doc["channels"]["sms"] = {"address": "+15550005", "subscribeStatus": "subscribed"}
            doc["channels"]["push"] = [{"token": "t1", "platform": "ios", "subscribeStatus": "none"}]
        docs.append(doc)
    cids = await api.contacts("acme", *docs)
    await api.contacts("other", email_contact("c0@example.com"))  # same address, other account
    await activities.insert_messages(
        Tenant("acme", api.db), [{"_id": MESSAGE, "name": "Spring sale", "channel": "email", "sentAt": T0}]
    )
    events, placed = [], []
    for i, cid in enumerate(cids):
        for k in range(i % 5):
            events.append(
                {
                    "cID": cid,
                    "action": ("message-sent", "open", "click", "browse")[k % 4],
                    "ats": T0 + timedelta(hours=k, minutes=i),
                    "mcID": f"m{k}" if k % 2 else None,
                    "messageId": MESSAGE if k == 1 else None,
                    "properties": {"url": f"https://x/{k}"} if k == 2 else {},
                }
            )
        for k in range(i % 3):
            placed.append(
                {
                    "cID": cid,
                    "orderID": f"O{i}-{k}",
                    "purchaseDate": T0 + timedelta(days=k),
                    "status": "paid" if k else None,
                    "totalAmount": 12.5 * (k + 1),
                    "items": [{"productID": "P1", "sku": "S1", "qty": k + 1, "itemPrice": 12.5}],
                    "shippingAddress": {"city": "Paris", "postalCode": "75001"} if k else None,
                }
            )
    await activities.insert_many(Tenant("acme", api.db), events)
    await orders.insert_many(Tenant("acme", api.db), placed)
    counter = CommandCounter(settings.mongodb_db)
    standard = settings.model_copy(update={"compiled_execution": False})
    async with app_client(standard, listeners=[counter]) as http:
        yield Two(api, http, counter, key, narrow, cids)


CONTACT = """cID email __typename
  channels { email { address subscribeStatus invalid } sms { address subscribeStatus } push { token platform } }
  attributes first: attribute(key: "first_name") lists createdAt version mergedFrom
  cart { itemCount total items { productID qty itemPrice amount images properties } }
  orders(first: 2) { totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id orderID cID purchaseDate status totalAmount
      items { productID sku qty } shippingAddress { city postalCode } } } }
  activities(first: 3) { totalCount edges { node { id action ats mcID channel trackingType properties
    message { id name channel sentAt } contact { cID } } } }"""

DOCUMENTS: list[tuple[str, dict[str, Any]]] = [
    (
        f"query($n: Int!) {{ contacts(first: $n) {{ totalCount edges {{ node {{ {CONTACT} }} }} }} }}",
        {"n": 8},
    ),
    (f'{{ contact(ref: "c3@example.com") {{ {CONTACT} }} }}', {}),
    ('{ nobody: contact(ref: "nobody@example.com") { cID } }', {}),
    (
        """query { a: contacts(first: 3) { edges { node { ...C x: cID } } }
                   b: contacts(first: 2, after: null) { pageInfo { hasNextPage } edges { node { email } } } }
           fragment C on Contact { cID ... on Contact { email cart { __typename total } } }""",
        {},
    ),
    (
        """query($s: Boolean!, $i: Boolean!) { contacts(first: 4) { edges { node {
             cID email @skip(if: $s) orders(first: 1) @include(if: $i) { totalCount }
             activities(first: 1) { edges { node { action } } }
             activities(first: 1) { edges { node { ats } } } } } } }""",
        {"s": True, "i": False},
    ),
    (
        """query($s: Boolean!, $i: Boolean!) { contacts(first: 4) { edges { node {
             cID email @skip(if: $s) orders(first: 1) @include(if: $i) { totalCount } } } } }""",
        {"s": False, "i": True},
    ),
    (
        """{ activities(where: {action: "open"}, first: 10) { totalCount edges { node {
             __typename action ats contact { email } message { name } } } } }""",
        {},
    ),
    ("{ account { id } }", {}),
]


async def test_the_same_answers_as_graphql_core_and_the_compiled_path_was_taken(two: Two) -> None:
    for query, variables in DOCUMENTS:
        before = executions("compiled")
        body = await two.both(query, variables)
        assert "errors" not in body, body
        assert executions("compiled") == before + 1, query


ERRORS = [
    # a bad cursor, a contact filter under Contact.activities, a bad ref: userErrors-style errors
    '{ contacts(first: 2) { edges { node { cID orders(after: "garbage") { totalCount } } } } }',
    '{ contacts(first: 2) { edges { node { cID activities(where: {contact: "x"}) { totalCount } } } } }',
    '{ contact(ref: "cID:zz") { cID } }',
    "{ contacts(first: -1) { edges { node { cID } } } }",
]


async def test_errors_and_partial_data_are_graphql_cores(two: Two) -> None:
    for query in ERRORS:
        before = executions("fallback")
        body = await two.both(query)
        assert body.get("errors"), query
        assert executions("fallback") == before + 1, query


async def test_a_failing_request_sends_no_more_commands_than_graphql_core(two: Two) -> None:
    """The fallback replays what the compiled run read: an error costs no second read."""
    failing = [*ERRORS, '{ contacts(first: 3) { edges { node { cID orders(after: "garbage") { totalCount } '
               'activities(first: 2) { edges { node { action } } } } } } }']  # fmt: skip
    await two.both("{ account { id } }")  # the keys' lastUsedAt is fresh from here on
    for query in failing:
        two.compiled.commands.reset()
        two.standard_commands.reset()

        await two.both(query)

        compiled, standard = two.compiled.commands.names, two.standard_commands.names
        assert len(compiled) <= len(standard), (query, compiled, standard)


async def test_a_refused_field_is_reported_as_graphql_core_reports_it(two: Two) -> None:
    query = "{ contacts(first: 3) { edges { node { cID activities(first: 1) { totalCount } } } } }"
    body = await two.both(query, key=two.narrow_key)

    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert body["data"] is None  # the non-null connection's null reaches the root
    without = await two.both("{ contacts(first: 3) { edges { node { cID email } } } }", key=two.narrow_key)
    assert "errors" not in without


async def test_what_it_does_not_compile_runs_on_graphql_core(two: Two) -> None:
    global_id = (await two.both('{ contact(ref: "c1@example.com") { id } }'))["data"]["contact"]["id"]
    for query in (
        f'{{ node(id: "{global_id}") {{ __typename ... on Contact {{ cID }} }} }}',  # an interface
        "{ __schema { queryType { name } } }",  # introspection
    ):
        before = executions("standard")
        body = await two.both(query)
        assert "errors" not in body
        assert executions("standard") == before + 1, query


async def test_the_compiled_path_sends_the_same_database_commands(two: Two) -> None:
    query, variables = DOCUMENTS[0]
    await two.both(query, variables)  # the keys' lastUsedAt is fresh from here on
    two.compiled.commands.reset()
    two.standard_commands.reset()

    await two.both(query, variables)

    # one per level: contacts (+ their count), orders, activities, the activities' contacts, messages
    assert len(two.compiled.commands.names) == 6
    assert sorted(two.compiled.commands.names) == sorted(two.standard_commands.names)


# -- generated documents ---------------------------------------------------------------

ROOTS = {
    "contacts": ("contacts(first: 5) { totalCount edges { node { %s } } }", "Contact"),
    "contact": ('contact(ref: "c4@example.com") { %s }', "Contact"),
    "activities": ("activities(first: 6) { edges { cursor node { %s } } }", "Activity"),
}
REQUIRED_ARGUMENTS = {("Contact", "attribute"): '(key: "first_name")'}
MAX_DEPTH = 4


def _selection(rng: random.Random, gtype: GraphQLObjectType, depth: int) -> str:
    names = sorted(gtype.fields)
    parts: list[str] = []
    for index, name in enumerate(rng.sample(names, k=rng.randint(1, min(7, len(names))))):
        field = gtype.fields[name]
        arguments = REQUIRED_ARGUMENTS.get((gtype.name, name), "")
        if not arguments and any(isinstance(a.type, GraphQLNonNull) for a in field.args.values()):
            continue
        if not arguments and "first" in field.args:
            # one choice per field of a document: a field merged from a fragment has the same
            # arguments (differing ones make the document invalid)
            if (gtype.name, name) not in _FIRST:
                _FIRST[(gtype.name, name)] = f"(first: {rng.randint(0, 3)})" if rng.random() < 0.5 else ""
            arguments = _FIRST[(gtype.name, name)]
        named = get_named_type(field.type)
        alias = f"{name}_{index}: " if rng.random() < 0.25 else ""
        if is_leaf_type(named):
            parts.append(f"{alias}{name}{arguments}")
            continue
        if depth >= MAX_DEPTH or not isinstance(named, GraphQLObjectType):
            continue
        inner = _selection(rng, named, depth + 1) or "__typename"
        parts.append(f"{alias}{name}{arguments} {{ {inner} }}")
        if rng.random() < 0.2:  # the same field again, merged, inside an inline fragment
            more = _selection(rng, named, depth + 1) or "__typename"
            parts.append(f"... on {gtype.name} {{ {alias}{name}{arguments} {{ {more} }} }}")
    if rng.random() < 0.3:
        parts.insert(rng.randint(0, len(parts)), "__typename")
    return " ".join(parts)


_FIRST: dict[tuple[str, str], str] = {}


def generated(count: int, seed: int = 20261122) -> list[str]:
    rng = random.Random(seed)
    documents = []
    for _ in range(count):
        _FIRST.clear()
        template, type_name = ROOTS[rng.choice(sorted(ROOTS))]
        gtype = schema._schema.get_type(type_name)
        assert isinstance(gtype, GraphQLObjectType)
        documents.append("{ " + template % (_selection(rng, gtype, 1) or "__typename") + " }")
    return documents


def test_generated_documents_are_valid_and_varied() -> None:
    documents = generated(150)
    assert len(set(documents)) > 140
    assert all(validate(schema._schema, parse(d)) == [] for d in documents)
    assert sum("..." in d for d in documents) > 10
    assert sum("__typename" in d for d in documents) > 30


async def test_generated_documents_get_the_same_answers(two: Two) -> None:
    compiled_before = executions("compiled")
    documents = generated(150)
    for query in documents:
        body = await two.both(query)
        assert "errors" not in body, (query, body["errors"])
    assert executions("compiled") == compiled_before + len(documents)


async def test_metrics_count_executions_by_path(two: Two) -> None:
    await two.both("{ contacts(first: 1) { edges { node { cID } } } }")

    text = (await two.compiled.http.get("/metrics")).text

    assert 'contactgraph_graphql_executions_total{path="compiled"}' in text


async def test_a_compiled_answer_brings_its_object_count_so_the_cost_walks_nothing(
    two: Two, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The actual cost of a compiled answer is the count the run kept while building it
    (the differential above checks it equals graphql-core's walked count)."""
    walked: list[int] = []
    walk = cost._Walk.actual

    def counting(self: Any, *args: Any) -> int:
        walked.append(1)
        return walk(self, *args)

    monkeypatch.setattr(cost._Walk, "actual", counting)
    query, variables = DOCUMENTS[0]
    before = executions("compiled")
    body = await two.compiled.gql(query, variables, key=two.key)
    assert executions("compiled") == before + 1
    assert body["extensions"]["cost"]["actualQueryCost"] > 8
    assert walked == []
