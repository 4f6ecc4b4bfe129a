"""contactUpdate: the reference examples, all-or-nothing, versions, concurrency."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.account.attributes import AttributeDefinition, AttributeType, Validators, create_attribute
from app.db import CONTACTS
from app.tenant import Tenant
from tests.conftest import Api, email_contact
from tests.contacts.conftest import CONTACT_FIELDS, ERRORS

UPDATE = f"""mutation($ref: String!, $input: ContactInput!) {{
  contactUpdate(ref: $ref, input: $input) {{ contact {{ {CONTACT_FIELDS} }} {ERRORS} }} }}"""
REF = "email:msmith@example.com"


@pytest.fixture
async def msmith(api: Api, key: str) -> str:
    doc = email_contact(
        "msmith@example.com",
        attributes={
            "first_name": "Mark",
            "points": 0,
            "location": {"city": "San Diego", "postal_code": "92101"},
        },
        lists=["safe-driver"],
    )
    await api.contacts("acme", doc)
    return key


async def update(api: Api, key: str, given: dict[str, Any], ref: str = REF) -> dict[str, Any]:
    data = await api.ok(UPDATE, {"ref": ref, "input": given}, key=key)
    payload: dict[str, Any] = data["contactUpdate"]
    return payload


async def stored(api: Api) -> dict[str, Any]:
    doc = await api.db[CONTACTS].find_one(
        {"accountId": "acme", "channels.email.address": "msmith@example.com"}
    )
    assert doc is not None
    return doc


async def test_set_a_string(api: Api, msmith: str) -> None:
    payload = await update(api, msmith, {"attributes": [{"key": "first_name", "value": "Markus"}]})

    assert payload["userErrors"] == []
    assert payload["contact"]["attributes"]["first_name"] == "Markus"
    assert (await stored(api))["attributes"]["first_name"] == "Markus"


async def test_reference_points_75_then_inc_plus_and_minus_15(api: Api, msmith: str) -> None:
    steps = [({"value": 75}, 75), ({"inc": 15}, 90), ({"inc": -15}, 75)]
    for op, expected in steps:
        payload = await update(api, msmith, {"attributes": [{"key": "points", **op}]})

        assert payload["contact"]["attributes"]["points"] == expected
        assert (await stored(api))["attributes"]["points"] == expected


async def test_inc_on_a_missing_number_starts_from_zero_and_only_numbers_inc(api: Api, msmith: str) -> None:
    ok = await update(api, msmith, {"attributes": [{"key": "age", "inc": 2}]})
    bad = await update(api, msmith, {"attributes": [{"key": "first_name", "inc": 2}]})

    assert ok["contact"]["attributes"]["age"] == 2
    assert bad["userErrors"][0]["message"] == "first_name: 'inc' applies to number attributes"


async def test_reference_fav_fruits_replace_add_remove(api: Api, msmith: str) -> None:
    steps = [
        ({"value": ["banana"]}, ["banana"]),
        ({"value": ["banana", "strawberry"]}, ["banana", "strawberry"]),
        ({"add": ["apple"]}, ["banana", "strawberry", "apple"]),
        ({"remove": ["apple", "strawberry"]}, ["banana"]),
    ]
    for op, expected in steps:
        payload = await update(api, msmith, {"attributes": [{"key": "fav_fruits", **op}]})

        assert payload["userErrors"] == []
        assert (await stored(api))["attributes"]["fav_fruits"] == expected


async def test_arrays_keep_at_most_max_items_dropping_the_oldest(api: Api, msmith: str) -> None:
    await update(api, msmith, {"attributes": [{"key": "tags", "value": ["a", "b", "c"]}]})

    added = await update(api, msmith, {"attributes": [{"key": "tags", "add": ["d", "e"]}]})
    replaced = await update(api, msmith, {"attributes": [{"key": "tags", "value": ["1", "2", "3", "4"]}]})
    await update(api, msmith, {"attributes": [{"key": "fav_fruits", "value": [f"f{i}" for i in range(30)]}]})

    assert added["contact"]["attributes"]["tags"] == ["c", "d", "e"]
    assert replaced["contact"]["attributes"]["tags"] == ["2", "3", "4"]
    assert (await stored(api))["attributes"]["fav_fruits"] == [f"f{i}" for i in range(5, 30)]  # default 25


async def test_reference_location_postal_code_alone_keeps_the_other_fields(api: Api, msmith: str) -> None:
    by_path = await update(api, msmith, {"attributes": [{"key": "location.postal_code", "value": "92613"}]})
    by_object = await update(
        api,
        msmith,
        {"attributes": [{"key": "location", "value": {"state": "CA", "loc": {"lat": 32.7, "lon": -117.1}}}]},
    )

    assert by_path["contact"]["attributes"]["location"] == {"city": "San Diego", "postal_code": "92613"}
    assert (await stored(api))["attributes"]["location"] == {
        "city": "San Diego",
        "postal_code": "92613",
        "state": "CA",
        "loc": {"lat": 32.7, "lon": -117.1},
    }
    assert by_object["userErrors"] == []


async def test_reference_list_change_safe_driver_off_premium_on(api: Api, msmith: str) -> None:
    payload = await update(
        api,
        msmith,
        {
            "lists": [
                {"key": "safe-driver", "member": False},
                {"key": "premium-roadside-assistance", "member": True},
            ]
        },
    )

    assert payload["contact"]["lists"] == ["premium-roadside-assistance"]
    assert (await stored(api))["lists"] == ["premium-roadside-assistance"]


async def test_an_unknown_list_is_named_and_nothing_changes(api: Api, msmith: str) -> None:
    before = await stored(api)

    payload = await update(
        api, msmith, {"lists": [{"key": "safe-driver", "member": False}, {"key": "platinum", "member": True}]}
    )

    assert payload["userErrors"] == [
        {
            "field": ["input", "lists", "1", "key"],
            "message": "Unknown list 'platinum'",
            "code": "VALIDATION_ERROR",
        }
    ]
    assert await stored(api) == before


async def test_reference_email_change_and_its_uniqueness(api: Api, msmith: str) -> None:
    await api.contacts("acme", email_contact("taken@example.com"))

    changed = await update(api, msmith, {"channels": {"email": {"address": "markussmith@example.com"}}})
    collision = await update(
        api, msmith, {"channels": {"email": {"address": "taken@example.com"}}}, ref="markussmith@example.com"
    )

    assert changed["contact"]["email"] == "markussmith@example.com"
    assert collision["userErrors"][0]["code"] == "CONTACTS_RECORD_EXISTS"
    assert (
        await api.db[CONTACTS].count_documents(
            {"channels.email.address": "markussmith@example.com", "accountId": "acme"}
        )
        == 1
    )
    assert (
        await api.db[CONTACTS].count_documents(
            {"channels.email.address": "taken@example.com", "accountId": "acme"}
        )
        == 1
    )


async def test_reference_resubscribe_needs_force_subscribe_and_clears_a_hard_bounce(
    api: Api, msmith: str
) -> None:
    await api.db[CONTACTS].update_one(
        {"channels.email.address": "msmith@example.com", "accountId": "acme"},
        {"$set": {"channels.email.subscribeStatus": "unsubscribed", "channels.email.invalid": True}},
    )
    before = await stored(api)
    request = {
        "channels": {
            "email": {"address": "msmith@example.com", "subscribeStatus": "SUBSCRIBED", "invalid": False}
        }
    }

    refused = await update(api, msmith, request)
    after_refusal = await stored(api)
    forced = await update(api, msmith, {**request, "forceSubscribe": True})

    assert refused["userErrors"][0]["code"] == "CONTACTS_INVALID_SUBSCRIBE_STATUS"
    assert refused["userErrors"][0]["field"] == ["input", "channels", "email", "subscribeStatus"]
    assert after_refusal == before
    email = forced["contact"]["channels"]["email"]
    assert (email["subscribeStatus"], email["invalid"]) == ("SUBSCRIBED", False)
    assert email["subscribedAt"] is not None
    assert (await stored(api))["channels"]["email"]["invalid"] is False


async def test_all_or_nothing_one_bad_change_applies_none(api: Api, msmith: str) -> None:
    before = await stored(api)

    payload = await update(
        api,
        msmith,
        {
            "attributes": [{"key": "first_name", "value": "Markus"}, {"key": "age", "value": "old"}],
            "lists": [{"key": "auto-enthusiast", "member": True}],
            "channels": {"email": {"address": "new@example.com"}},
        },
    )

    assert payload["contact"] is None
    assert payload["userErrors"] == [
        {
            "field": ["input", "attributes", "1"],
            "message": "age: expected a number, got 'old'",
            "code": "VALIDATION_ERROR",
        }
    ]
    assert await stored(api) == before


async def test_validators_apply_to_new_writes_only(api: Api, msmith: str) -> None:
    await api.db[CONTACTS].update_one(
        {"channels.email.address": "msmith@example.com", "accountId": "acme"},
        {"$set": {"attributes.nick": "x"}},
    )
    await create_attribute(
        Tenant("acme", api.db),
        AttributeDefinition("nick", "Nick", AttributeType.STRING, validators=Validators(min=3)),
    )

    other_field = await update(api, msmith, {"attributes": [{"key": "first_name", "value": "Markus"}]})
    new_value = await update(api, msmith, {"attributes": [{"key": "nick", "value": "ab"}]})

    assert other_field["userErrors"] == []
    assert other_field["contact"]["attributes"]["nick"] == "x"  # left as it was
    assert new_value["userErrors"][0]["message"] == "nick: must be at least 3 characters"


async def test_every_write_bumps_last_modified_and_version(api: Api, msmith: str) -> None:
    before = await stored(api)

    payload = await update(api, msmith, {"attributes": [{"key": "points", "inc": 1}]})

    after = await stored(api)
    assert after["version"] == before["version"] + 1 == payload["contact"]["version"]
    assert after["lastModified"] > before["lastModified"]


async def test_a_stale_expected_version_is_refused(api: Api, msmith: str) -> None:
    version = (await stored(api))["version"]

    fresh = await update(
        api, msmith, {"expectedVersion": version, "attributes": [{"key": "points", "value": 1}]}
    )
    stale = await update(
        api, msmith, {"expectedVersion": version, "attributes": [{"key": "points", "value": 2}]}
    )

    assert fresh["userErrors"] == []
    assert stale["userErrors"][0]["code"] == "CONTACTS_VERSION_CONFLICT"
    assert (await stored(api))["attributes"]["points"] == 1


async def test_concurrent_increments_are_never_lost(api: Api, msmith: str) -> None:
    async def inc() -> dict[str, Any]:
        return await update(api, msmith, {"attributes": [{"key": "points", "inc": 1}]})

    results = await asyncio.gather(*(inc() for _ in range(20)))

    assert all(r["userErrors"] == [] for r in results)
    doc = await stored(api)
    assert doc["attributes"]["points"] == 20
    assert doc["version"] == 21


async def test_unknown_and_malformed_refs(api: Api, msmith: str) -> None:
    unknown = await update(
        api, msmith, {"attributes": [{"key": "points", "value": 1}]}, ref="nobody@example.com"
    )
    malformed = await update(api, msmith, {"attributes": [{"key": "points", "value": 1}]}, ref="cID:zz")

    assert unknown["userErrors"][0]["code"] == "CONTACTS_CONTACT_NOT_FOUND"
    assert malformed["userErrors"][0]["code"] == "CONTACTS_INVALID_PRIMARY_KEY"


async def test_unset_removes_a_value(api: Api, msmith: str) -> None:
    payload = await update(
        api,
        msmith,
        {"attributes": [{"key": "first_name", "unset": True}, {"key": "location.city", "unset": True}]},
    )

    assert "first_name" not in (await stored(api))["attributes"]
    assert payload["contact"]["attributes"]["location"] == {"postal_code": "92101"}
