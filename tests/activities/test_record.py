"""eventRecord: the reference's rules and its Khaki Shirt example."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.db import ACTIVITIES, EVENT_PROPERTIES
from tests.activities.conftest import Keys
from tests.conftest import Api

RECORD = """mutation($input: EventInput!) { eventRecord(input: $input) {
  activity { id cID action ats properties mcID channel trackingType unsearchableProperties }
  deduplicated strippedKeys userErrors { field message code } } }"""
KHAKI = {
    "action": "browse",
    "identifier": {"key": "email", "value": "msmith@example.com"},
    "ats": "2025-01-09 17:47:43",
    "properties": {
        "category": "Shirts",
        "url": "https://example.com/shirts",
        "description": "A really cool khaki shirt.",
        "price": 9.99,
        "title": "Khaki Shirt",
    },
}


async def record(api: Api, key: str, given: dict[str, Any]) -> dict[str, Any]:
    data = await api.ok(RECORD, {"input": given}, key=key)
    payload: dict[str, Any] = data["eventRecord"]
    return payload


async def test_reference_khaki_shirt_browse_event(api: Api, keys: Keys) -> None:
    payload = await record(api, keys.app, KHAKI)

    assert payload["userErrors"] == []
    activity = payload["activity"]
    assert (activity["action"], activity["cID"], activity["ats"]) == (
        "browse",
        str(keys.cid),
        "2025-01-09T17:47:43.000Z",
    )
    assert activity["properties"] == KHAKI["properties"]
    assert activity["trackingType"] is None
    [stored] = await api.db[ACTIVITIES].find({"accountId": "acme"}).to_list()
    assert stored["cID"] == keys.cid
    assert stored["ats"] == datetime(2025, 1, 9, 17, 47, 43, tzinfo=UTC)
    assert stored["expireAt"] == datetime(2026, 7, 9, 17, 47, 43, tzinfo=UTC)  # 18 months later
    assert stored["properties"]["price"] == 9.99


@pytest.mark.parametrize(
    "contact",
    [
        {"contact": "msmith@example.com"},
        {"contact": "custID:ID1234"},
        {"identifier": {"key": "custID", "value": "ID1234"}},
    ],
)
async def test_the_contact_by_ref_or_identifier(api: Api, keys: Keys, contact: dict[str, Any]) -> None:
    payload = await record(api, keys.app, {"action": "browse", **contact})

    assert payload["activity"]["cID"] == str(keys.cid)


async def test_ats_defaults_to_now_and_accepts_iso(api: Api, keys: Keys) -> None:
    before = datetime.now(UTC)
    default = await record(api, keys.app, {"contact": "msmith@example.com", "action": "browse"})
    iso = await record(
        api,
        keys.app,
        {"contact": "msmith@example.com", "action": "browse", "ats": "2025-01-09T17:47:43+02:00"},
    )

    ats = datetime.fromisoformat(default["activity"]["ats"].replace("Z", "+00:00"))
    assert before - timedelta(seconds=1) <= ats <= datetime.now(UTC) + timedelta(seconds=1)
    assert iso["activity"]["ats"] == "2025-01-09T15:47:43.000Z"


@pytest.mark.parametrize(
    ("action", "ok"),
    [
        ("a", True),
        ("x" * 40, True),
        ("x" * 41, False),
        ("", False),
        (" browse", False),
        ("add-to-cart", True),
    ],
)
async def test_action_names_are_1_to_40_characters(api: Api, keys: Keys, action: str, ok: bool) -> None:
    payload = await record(api, keys.app, {"contact": "msmith@example.com", "action": action})

    if ok:
        assert payload["userErrors"] == []
    else:
        assert payload["userErrors"][0]["code"] == "CONTACT_ACTIVITIES_INCORRECT_ACTION_NAME"
        assert payload["userErrors"][0]["field"] == ["input", "action"]


@pytest.mark.parametrize(
    "action",
    [
        "message-sent", "open", "click", "optout", "bounce", "complaint", "pageview", "message-stopped",
        "page-click", "page-contact-add", "page-contact-update",
    ],
)  # fmt: skip
async def test_reserved_actions_need_the_system_scope(api: Api, keys: Keys, action: str) -> None:
    refused = await record(api, keys.app, {"contact": "msmith@example.com", "action": action})
    accepted = await record(api, keys.system, {"contact": "msmith@example.com", "action": action})

    assert refused["userErrors"][0]["code"] == "CONTACT_ACTIVITIES_INCORRECT_ACTION_NAME"
    assert "reserved" in refused["userErrors"][0]["message"]
    assert accepted["userErrors"] == []
    assert await api.db[ACTIVITIES].count_documents({"action": action}) == 1


async def test_at_most_1000_properties(api: Api, keys: Keys) -> None:
    ok = await record(
        api,
        keys.app,
        {"contact": "msmith@example.com", "action": "big", "properties": {f"p{i}": i for i in range(1000)}},
    )
    too_many = await record(
        api,
        keys.app,
        {"contact": "msmith@example.com", "action": "big", "properties": {f"p{i}": i for i in range(1001)}},
    )

    assert ok["userErrors"] == []
    assert too_many["userErrors"] == [
        {
            "field": ["input", "properties"],
            "message": "Validation error: at most 1000 properties, got 1001",
            "code": "CONTACT_ACTIVITIES_VALIDATION_ERROR",
        }
    ]
    assert await api.db[ACTIVITIES].count_documents({}) == 1


async def test_numeric_only_and_dotted_keys_are_stripped_and_reported(api: Api, keys: Keys) -> None:
    given = {"57": 1, "shoes.color": "red", "$where": "x", "size": 9, "nested": {"a.b": 1, "ok": 2, "12": 3}}

    payload = await record(
        api, keys.app, {"contact": "msmith@example.com", "action": "browse", "properties": given}
    )

    assert payload["strippedKeys"] == ["57", "shoes.color", "$where", "nested.a.b", "nested.12"]
    assert payload["activity"]["properties"] == {"size": 9, "nested": {"ok": 2}}
    stored = await api.db[ACTIVITIES].find_one({})
    assert stored is not None
    assert stored["properties"] == {"size": 9, "nested": {"ok": 2}}


async def test_empty_input_and_an_unknown_contact(api: Api, keys: Keys) -> None:
    empty = await record(api, keys.app, {})
    no_contact = await record(api, keys.app, {"action": "browse"})
    unknown = await record(api, keys.app, {"contact": "nobody@example.com", "action": "browse"})
    malformed = await record(api, keys.app, {"contact": "cID:xyz", "action": "browse"})

    assert empty["userErrors"] == [
        {
            "field": ["input"],
            "message": "Invalid payload: it is empty",
            "code": "CONTACT_ACTIVITIES_INVALID_PAYLOAD",
        }
    ]
    assert no_contact["userErrors"][0]["code"] == "CONTACT_ACTIVITIES_VALIDATION_ERROR"
    assert unknown["userErrors"] == [
        {"field": ["input", "contact"], "message": "Contact not found", "code": "CONTACTS_CONTACT_NOT_FOUND"}
    ]
    assert malformed["userErrors"][0]["code"] == "CONTACTS_INVALID_PRIMARY_KEY"
    assert await api.db[ACTIVITIES].count_documents({}) == 0


async def test_the_same_idempotency_key_twice_stores_one_activity(api: Api, keys: Keys) -> None:
    given = {"contact": "msmith@example.com", "action": "order", "idempotencyKey": "order-42"}

    first = await record(api, keys.app, given)
    second = await record(api, keys.app, {**given, "properties": {"changed": True}})

    assert (first["deduplicated"], second["deduplicated"]) == (False, True)
    assert second["activity"]["id"] == first["activity"]["id"]
    assert second["activity"]["properties"] == {}
    assert await api.db[ACTIVITIES].count_documents({"idempotencyKey": "order-42", "accountId": "acme"}) == 1


async def test_idempotency_holds_under_concurrent_senders(api: Api, keys: Keys) -> None:
    given = {"contact": "msmith@example.com", "action": "order", "idempotencyKey": "race"}

    results = await asyncio.gather(*(record(api, keys.app, given) for _ in range(12)))

    assert sum(1 for r in results if not r["deduplicated"]) == 1
    assert len({r["activity"]["id"] for r in results}) == 1
    assert await api.db[ACTIVITIES].count_documents({"idempotencyKey": "race", "accountId": "acme"}) == 1


async def test_the_first_type_seen_is_recorded_and_other_types_are_not_searchable(
    api: Api, keys: Keys
) -> None:
    await record(
        api,
        keys.app,
        {"contact": "msmith@example.com", "action": "browse", "properties": {"price": 9.99, "sku": "A1"}},
    )
    other = await record(
        api, keys.app, {"contact": "msmith@example.com", "action": "browse", "properties": {"price": "cheap"}}
    )
    other_action = await record(
        api, keys.app, {"contact": "msmith@example.com", "action": "order", "properties": {"price": "cheap"}}
    )

    assert other["activity"]["properties"] == {"price": "cheap"}  # kept
    assert other["activity"]["unsearchableProperties"] == ["price"]
    assert other_action["activity"]["unsearchableProperties"] == []
    recorded = (
        await api.db[EVENT_PROPERTIES]
        .find({"accountId": "acme"}, {"_id": 0, "accountId": 0})
        .sort([("action", 1), ("key", 1)])
        .to_list()
    )
    assert recorded == [
        {"action": "browse", "key": "price", "type": "number", "searchable": True},
        {"action": "browse", "key": "sku", "type": "string", "searchable": True},
        {"action": "order", "key": "price", "type": "string", "searchable": True},
    ]
    shown = await api.ok("{ account { eventProperties { action key type } } }", key=keys.app)
    assert shown["account"]["eventProperties"][0] == {"action": "browse", "key": "price", "type": "number"}
    query = 'query($v: JSON) { activities(where: {action: "browse", properties: [{key: "price", eq: $v}]}) { totalCount } }'
    assert (await api.ok(query, {"v": "cheap"}, key=keys.app))["activities"]["totalCount"] == 0
    assert (await api.ok(query, {"v": 9.99}, key=keys.app))["activities"]["totalCount"] == 1


async def test_recording_needs_activities_write(api: Api, keys: Keys) -> None:
    from app.auth import ScopeName

    reader = await api.account("acme", frozenset({ScopeName.ACTIVITIES_READ}))

    body = await api.gql(RECORD, {"input": KHAKI}, key=reader)

    assert body["errors"][0]["extensions"]["requiredScope"] == "activities:write"
