"""messageRecord: the pipeline names its campaigns; Activity.message resolves them."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from app.auth import ScopeName
from app.db import MESSAGES
from tests.activities.conftest import Keys
from tests.conftest import Api

RECORD = """mutation($input: MessageInput!) { messageRecord(input: $input) {
  message { id name channel sentAt } userErrors { field message code } } }"""
EVENT = """mutation($input: EventInput!) { eventRecord(input: $input) {
  activity { id mcID message { id name channel } } userErrors { code } } }"""


async def record(api: Api, key: str, **given: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.ok(RECORD, {"input": given}, key=key))["messageRecord"]
    return payload


async def test_a_recorded_message_names_the_activities_of_its_mcids(api: Api, keys: Keys) -> None:
    message_id = str(ObjectId())
    created = await record(
        api, keys.system, id=message_id, name="Spring sale", channel="email", sentAt="2026-03-01T09:00:00Z"
    )
    event = (
        await api.ok(
            EVENT,
            {
                "input": {
                    "contact": "msmith@example.com",
                    "action": "open",
                    "mcID": f"252:{message_id}:ot:x:1",
                }
            },
            key=keys.system,
        )
    )["eventRecord"]
    renamed = await record(api, keys.system, id=message_id, name="Spring sale (final)")

    assert created == {
        "message": {
            "id": message_id,
            "name": "Spring sale",
            "channel": "email",
            "sentAt": "2026-03-01T09:00:00.000Z",
        },
        "userErrors": [],
    }
    assert event["activity"]["message"] == {"id": message_id, "name": "Spring sale", "channel": "email"}
    assert renamed["message"] == {
        "id": message_id,
        "name": "Spring sale (final)",
        "channel": "email",
        "sentAt": "2026-03-01T09:00:00.000Z",
    }
    assert await api.db[MESSAGES].count_documents({}) == 1
    activity = await api.ok(
        "query($id: ID!) { node(id: $id) { ... on Activity { message { name } } } }",
        {"id": event["activity"]["id"]},
        key=keys.app,
    )
    assert activity["node"]["message"] == {"name": "Spring sale (final)"}


async def test_only_the_system_scope_records_messages(api: Api, keys: Keys) -> None:
    body = await api.gql(RECORD, {"input": {"id": str(ObjectId()), "name": "x"}}, key=keys.app)

    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await api.db[MESSAGES].count_documents({}) == 0


async def test_bad_messages_are_user_errors(api: Api, keys: Keys) -> None:
    bad = await record(api, keys.system, id="252:abc", name=" ", channel="")

    assert bad["message"] is None
    assert [(e["field"], e["code"]) for e in bad["userErrors"]] == [
        (["input", "id"], "CONTACT_ACTIVITIES_VALIDATION_ERROR"),
        (["input", "name"], "CONTACT_ACTIVITIES_VALIDATION_ERROR"),
        (["input", "channel"], "CONTACT_ACTIVITIES_VALIDATION_ERROR"),
    ]
    assert await api.db[MESSAGES].count_documents({}) == 0


async def test_an_id_of_another_accounts_message_is_refused_and_leaves_it_untouched(
    api: Api, keys: Keys
) -> None:
    message_id = str(ObjectId())
    await record(api, keys.system, id=message_id, name="Acme's campaign")
    other = await api.account("other", frozenset({ScopeName.ACTIVITIES_SYSTEM, ScopeName.ACTIVITIES_WRITE}))

    taken = await record(api, other, id=message_id, name="Hijacked")

    assert taken["message"] is None
    assert taken["userErrors"][0]["code"] == "CONTACT_ACTIVITIES_VALIDATION_ERROR"
    assert "Acme" not in taken["userErrors"][0]["message"]
    stored = await api.db[MESSAGES].find_one({"_id": ObjectId(message_id)})
    assert stored is not None
    assert (stored["accountId"], stored["name"]) == ("acme", "Acme's campaign")
