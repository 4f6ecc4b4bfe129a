"""Injection: no client value reaches a MongoDB filter as an operator, a `$`/dotted key, or
an unescaped regex. Each payload is sent where a value reaches a query; none may match
anything, leak another account's data, or change what is stored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.account.attributes import AttributeDefinition, AttributeType, create_attribute
from app.account.lists import create_list
from app.activities import repository as activities
from app.tenant import Tenant
from tests.conftest import Api, email_contact

OPERATOR_STRINGS = [
    '{"$ne": null}',
    '{"$gt": ""}',
    "$where",
    "$ne",
    "this.x == 1",
    "'; return true; var a='",
    ".*",
    "^",
    "a|b",
    "\\",
]
OPERATOR_OBJECTS: list[Any] = [
    {"$ne": None},
    {"$gt": ""},
    {"$where": "1"},
    {"$regex": ".*"},
    {"a.b": 1},
    {"$in": [1]},
]

READS: list[tuple[str, str, dict[str, Any]]] = []
for s in OPERATOR_STRINGS:
    READS += [
        ("ref", "query($v: String!) { contact(ref: $v) { cID } }", {"v": s}),
        ("prefixed ref", "query($v: String!) { contact(ref: $v) { cID } }", {"v": f"email:{s}"}),
        (
            "email filter",
            "query($v: String) { contacts(where: {emailAddress: $v}) { totalCount } }",
            {"v": s},
        ),
        ("action", "query($v: String) { activities(where: {action: $v}) { totalCount } }", {"v": s}),
        ("mcID", "query($v: String) { activities(where: {mcID: $v}) { totalCount } }", {"v": s}),
        ("order status", "query($v: String) { orders(where: {status: $v}) { totalCount } }", {"v": s}),
    ]
for o in OPERATOR_OBJECTS:
    READS += [
        (
            "attribute value",
            'query($v: JSON) { contacts(where: {attributes: [{key: "first_name", eq: $v}]}) { totalCount } }',
            {"v": o},
        ),
        (
            "property value",
            'query($v: JSON) { activities(where: {properties: [{key: "page", eq: $v}]}) { totalCount } }',
            {"v": o},
        ),
    ]
for key in ["$where", "first_name.$ne", "attributes", "__proto__", "channels.email.address"]:
    READS.append(
        (
            "attribute key",
            "query($k: String!) { contacts(where: {attributes: [{key: $k, exists: true}]}) { totalCount } }",
            {"k": key},
        )
    )
    READS.append(
        (
            "property key",
            "query($k: String!) { activities(where: {properties: [{key: $k, exists: true}]}) { totalCount } }",
            {"k": key},
        )
    )


def nothing_matched(body: dict[str, Any]) -> bool:
    if body.get("errors"):
        return True
    data = body["data"]
    value = next(iter(data.values()))
    return value is None or value.get("totalCount") == 0


@pytest.fixture
async def accounts(api: Api) -> str:
    key = await api.account("alpha")
    await api.account("beta")
    await create_attribute(
        Tenant("alpha", api.db), AttributeDefinition("first_name", "First", AttributeType.STRING)
    )
    await create_list(Tenant("alpha", api.db), "vip", None)
    [a] = await api.contacts("alpha", email_contact("real@example.com", attributes={"first_name": "Ann"}))
    [b] = await api.contacts("beta", email_contact("secret@example.com", attributes={"first_name": "Bea"}))
    await activities.insert_many(
        Tenant("alpha", api.db),
        [
            {
                "cID": a,
                "action": "browse",
                "ats": datetime(2025, 1, 1, tzinfo=UTC),
                "properties": {"page": 1},
            }
        ],
    )
    await activities.insert_many(
        Tenant("beta", api.db),
        [
            {
                "cID": b,
                "action": "browse",
                "ats": datetime(2025, 1, 1, tzinfo=UTC),
                "properties": {"page": 1},
            }
        ],
    )
    return key


@pytest.mark.parametrize(
    ("where", "query", "variables"), READS, ids=[f"{w}:{i}" for i, (w, _, _) in enumerate(READS)]
)
async def test_read_payloads_match_nothing(
    api: Api, accounts: str, where: str, query: str, variables: dict[str, Any]
) -> None:
    before = await api.db["contacts"].find({}).sort("_id", 1).to_list()

    response = await api.post(query, variables, key=accounts)

    assert response.status_code == 200
    body = response.json()
    assert nothing_matched(body), body
    assert "secret@example.com" not in response.text
    assert await api.db["contacts"].find({}).sort("_id", 1).to_list() == before


def test_there_are_at_least_fifty_payloads() -> None:
    assert len(READS) >= 50


async def test_write_payloads_store_values_never_operators(api: Api, accounts: str) -> None:
    update = 'mutation($v: JSON) { contactUpdate(ref: "real@example.com", input: {attributes: [{key: "first_name", value: $v}]}) { userErrors { code } } }'
    record = 'mutation($p: Properties, $a: String) { eventRecord(input: {contact: "real@example.com", action: $a, properties: $p}) { strippedKeys userErrors { code } } }'

    for value in OPERATOR_OBJECTS:
        body = await api.gql(update, {"v": value}, key=accounts)
        assert body.get("errors") or body["data"]["contactUpdate"]["userErrors"], value
    stripped = await api.ok(
        record, {"p": {"$set": {"x": 1}, "a.b": 1, "ok": {"$inc": 1}}, "a": "browse"}, key=accounts
    )
    odd_action = await api.ok(record, {"p": {}, "a": "$where"}, key=accounts)

    assert stripped["eventRecord"]["strippedKeys"] == ["$set", "a.b", "ok.$inc"]
    assert odd_action["eventRecord"]["userErrors"] == []
    stored = await api.db["activities"].find({"accountId": "alpha"}).to_list()
    for doc in stored:
        assert not any(k.startswith("$") or "." in k for k in doc["properties"])
    contact = await api.db["contacts"].find_one(
        {"channels.email.address": "real@example.com", "accountId": "alpha"}
    )
    assert contact is not None
    assert contact["attributes"]["first_name"] == "Ann"


async def test_report_operands_are_literal(api: Api, accounts: str) -> None:
    from datetime import timedelta

    from app.jobs.handlers import HANDLERS
    from app.jobs.runner import JobRunner

    create = """mutation($o: JSON) { activityReportCreate(input: {title: "t", selectedFields: ["email"],
      filters: {criteria: [{type: "email", fieldName: "email", operator: "LIKE", operand: $o}]}}) {
      activityReport { id } userErrors { code } } }"""
    for operand in ([".*"], ["^r"], ["(a|r)"], ["\\\\w"]):
        data = await api.ok(create, {"o": operand}, key=accounts)
        assert data["activityReportCreate"]["userErrors"] == []
        await JobRunner(api.db, HANDLERS, lease=timedelta(seconds=30)).run_once()
        report = await api.db["activityReports"].find_one({"accountId": "alpha"}, sort=[("createdAt", -1)])
        assert report is not None
        assert (report["status"], report["rowCount"]) == ("COMPLETED", 0), operand
