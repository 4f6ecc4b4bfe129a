"""eventsRecord: up to 10,000 events, validated one by one, stored in bulk."""

from __future__ import annotations

from typing import Any

from app.db import ACTIVITIES
from tests.activities.conftest import Keys
from tests.conftest import Api, email_contact

BATCH = """mutation($inputs: [EventInput!]!) { eventsRecord(inputs: $inputs) {
  recordedCount deduplicatedCount failedCount userErrors { field message code }
  results { index deduplicated strippedKeys activity { cID action } userErrors { field message code } } } }"""


async def send(api: Api, key: str, inputs: list[dict[str, Any]]) -> dict[str, Any]:
    data = await api.ok(BATCH, {"inputs": inputs}, key=key)
    payload: dict[str, Any] = data["eventsRecord"]
    return payload


async def test_each_event_gets_its_own_result_and_the_valid_ones_are_stored(api: Api, keys: Keys) -> None:
    inputs: list[dict[str, Any]] = [
        {"contact": "msmith@example.com", "action": "browse", "properties": {"1": "x", "a": 1}},
        {"contact": "nobody@example.com", "action": "browse"},
        {"contact": "msmith@example.com", "action": "open"},
        {"identifier": {"key": "custID", "value": "ID1234"}, "action": "cart", "idempotencyKey": "k1"},
        {"contact": "msmith@example.com", "action": "cart", "idempotencyKey": "k1"},
        {},
    ]

    payload = await send(api, keys.app, inputs)

    assert (payload["recordedCount"], payload["deduplicatedCount"], payload["failedCount"]) == (2, 1, 3)
    results = payload["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4, 5]
    assert results[0]["strippedKeys"] == ["1"]
    assert results[0]["activity"] == {"cID": str(keys.cid), "action": "browse"}
    assert results[1]["userErrors"] == [
        {
            "field": ["inputs", "1", "contact"],
            "message": "Contact not found",
            "code": "CONTACTS_CONTACT_NOT_FOUND",
        }
    ]
    assert results[2]["userErrors"][0]["code"] == "CONTACT_ACTIVITIES_INCORRECT_ACTION_NAME"
    assert results[2]["userErrors"][0]["field"] == ["inputs", "2", "action"]
    assert (results[3]["deduplicated"], results[4]["deduplicated"]) == (False, True)
    assert results[5]["userErrors"][0]["code"] == "CONTACT_ACTIVITIES_INVALID_PAYLOAD"
    assert await api.db[ACTIVITIES].count_documents({"accountId": "acme"}) == 2


async def test_database_commands_do_not_grow_with_the_batch(api: Api, keys: Keys) -> None:
    emails = [f"c{i}@example.com" for i in range(200)]
    await api.contacts("acme", *[email_contact(e) for e in emails])
    # the key's lastUsedAt and the property types are recorded from here on
    await send(api, keys.app, [{"contact": emails[0], "action": "browse", "properties": {"n": 1, "s": "x"}}])

    async def commands(n: int) -> list[str]:
        api.commands.reset()
        batch = [
            {"contact": e, "action": "browse", "properties": {"n": i, "s": "x"}}
            for i, e in enumerate(emails[:n])
        ]
        payload = await send(api, keys.app, batch)
        assert payload["recordedCount"] == n
        return [f"{name}:{cmd[name]}" for name, cmd in api.commands.commands]

    ten, two_hundred = await commands(10), await commands(200)

    assert ten == two_hundred
    # the identifier keys and their types (the key is cached), one contact lookup per identifier kind,
    # the property types, one insert
    assert ten == [
        "find:accounts",
        "find:attributeDefinitions",
        "find:contacts",
        "find:eventProperties",
        "insert:activities",
    ]


async def test_ten_thousand_events_in_one_call_and_no_more(api: Api, keys: Keys) -> None:
    batch = [
        {"contact": "msmith@example.com", "action": "scroll", "properties": {"i": i}} for i in range(10_000)
    ]

    ok = await send(api, keys.app, batch)
    too_many = await send(api, keys.app, [*batch, batch[0]])

    assert ok["recordedCount"] == 10_000
    assert too_many["userErrors"][0]["message"] == "At most 10000 events per call"
    assert too_many["results"] == []
    assert await api.db[ACTIVITIES].count_documents({"action": "scroll"}) == 10_000
