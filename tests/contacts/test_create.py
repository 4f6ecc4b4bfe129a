"""contactCreate and contactUpsert, with the reference document's examples."""

from __future__ import annotations

from typing import Any

from app.account.attributes import AttributeDefinition, AttributeType, Validators, create_attribute
from app.db import CONTACTS
from app.tenant import Tenant
from tests.conftest import Api
from tests.contacts.conftest import CONTACT_FIELDS, ERRORS

CREATE = f"mutation($input: ContactInput!) {{ contactCreate(input: $input) {{ contact {{ {CONTACT_FIELDS} }} {ERRORS} }} }}"
UPSERT = f"mutation($input: ContactInput!) {{ contactUpsert(input: $input) {{ created contact {{ {CONTACT_FIELDS} }} {ERRORS} }} }}"


async def stored(api: Api, email: str) -> dict[str, Any] | None:
    return await api.db[CONTACTS].find_one({"accountId": "acme", "channels.email.address": email})


async def test_reference_minimal_create(api: Api, key: str) -> None:
    data = await api.ok(
        CREATE, {"input": {"channels": {"email": {"address": "msmith@example.com"}}}}, key=key
    )

    payload = data["contactCreate"]
    assert payload["userErrors"] == []
    contact = payload["contact"]
    assert contact["email"] == "msmith@example.com"
    assert contact["channels"]["email"]["subscribeStatus"] == "NONE"
    assert contact["channels"]["email"]["invalid"] is False
    assert contact["version"] == 1
    doc = await stored(api, "msmith@example.com")
    assert doc is not None
    assert str(doc["_id"]) == contact["cID"]
    assert doc["channels"]["email"] == {
        "address": "msmith@example.com",
        "subscribeStatus": "none",
        "invalid": False,
    }
    assert (doc["attributes"], doc["lists"], doc["version"]) == ({}, [], 1)


async def test_reference_create_with_subscribe_status_attributes_and_lists(api: Api, key: str) -> None:
    given = {
        "channels": {"email": {"address": "msmith@example.com", "subscribeStatus": "SUBSCRIBED"}},
        "attributes": [
            {"key": "first_name", "value": "Mark"},
            {"key": "last_name", "value": "Smith"},
            {"key": "location.postal_code", "value": "92613"},
            {"key": "age", "value": 32},
        ],
        "lists": [{"key": "auto-enthusiast", "member": True}, {"key": "safe-driver", "member": True}],
    }

    data = await api.ok(CREATE, {"input": given}, key=key)

    contact = data["contactCreate"]["contact"]
    assert contact["attributes"] == {
        "first_name": "Mark",
        "last_name": "Smith",
        "location": {"postal_code": "92613"},
        "age": 32,
    }
    assert contact["lists"] == ["auto-enthusiast", "safe-driver"]
    assert contact["channels"]["email"]["subscribeStatus"] == "SUBSCRIBED"
    assert contact["channels"]["email"]["subscribedAt"] is not None
    doc = await stored(api, "msmith@example.com")
    assert doc is not None
    assert doc["attributes"]["location"] == {"postal_code": "92613"}
    assert doc["channels"]["email"]["subscribeStatus"] == "subscribed"


async def test_create_with_sms_push_and_a_date(api: Api, key: str) -> None:
    given = {
        "channels": {
            "email": {"address": "MSmith@Example.com "},
            "sms": {"address": "+1 (619) 888-0000", "subscribeStatus": "SUBSCRIBED"},
            "push": [{"token": "tok-1", "platform": "ios"}],
        },
        "attributes": [{"key": "birthday", "value": "1990-04-02 10:00:00"}],
    }

    data = await api.ok(CREATE, {"input": given}, key=key)

    contact = data["contactCreate"]["contact"]
    assert contact["email"] == "msmith@example.com"
    assert contact["channels"]["sms"] == {"address": "+16198880000", "subscribeStatus": "SUBSCRIBED"}
    assert contact["channels"]["push"] == [{"token": "tok-1", "platform": "ios", "subscribeStatus": "NONE"}]
    assert contact["attributes"]["birthday"] == "1990-04-02T10:00:00.000Z"
    by_sms = await api.ok('{ contact(ref: "sms:+16198880000") { cID } }', key=key)
    assert by_sms["contact"]["cID"] == contact["cID"]


async def test_an_existing_email_or_secondary_key_is_record_exists(api: Api, key: str) -> None:
    await api.ok(
        CREATE,
        {
            "input": {
                "channels": {"email": {"address": "a@example.com"}},
                "attributes": [{"key": "custID", "value": "C1"}],
            }
        },
        key=key,
    )

    same_email = await api.ok(
        CREATE, {"input": {"channels": {"email": {"address": "A@example.com"}}}}, key=key
    )
    same_key = await api.ok(
        CREATE,
        {
            "input": {
                "channels": {"email": {"address": "b@example.com"}},
                "attributes": [{"key": "custID", "value": "C1"}],
            }
        },
        key=key,
    )

    assert same_email["contactCreate"]["userErrors"] == [
        {
            "field": ["input", "channels", "email", "address"],
            "message": "Contact already exists with this email",
            "code": "CONTACTS_RECORD_EXISTS",
        }
    ]
    assert same_key["contactCreate"]["userErrors"][0]["code"] == "CONTACTS_RECORD_EXISTS"
    assert same_key["contactCreate"]["userErrors"][0]["field"] == ["input", "attributes", "custID"]
    assert await api.db[CONTACTS].count_documents({"accountId": "acme"}) == 1


async def test_no_address_is_a_validation_error(api: Api, key: str) -> None:
    for given in (
        {},
        {"attributes": [{"key": "first_name", "value": "Mark"}]},
        {"channels": {"email": {"address": ""}}},
    ):
        data = await api.ok(CREATE, {"input": given}, key=key)

        [error] = data["contactCreate"]["userErrors"]
        assert (error["code"], error["message"]) == ("VALIDATION_ERROR", "Address cannot be empty"), given
    assert await api.db[CONTACTS].count_documents({}) == 0


async def test_bad_values_are_named_and_nothing_is_stored(api: Api, key: str) -> None:
    given = {
        "channels": {"email": {"address": "x@example.com"}},
        "attributes": [
            {"key": "first_name", "value": "Mark"},
            {"key": "shoe_size", "value": 9},
            {"key": "age", "value": "thirty"},
            {"key": "age", "value": 200},
            {"key": "fav_fruits", "value": "apple"},
            {"key": "location", "value": {"planet": "Mars"}},
            {"key": "points", "inc": 1, "value": 3},
        ],
        "lists": [{"key": "gold", "member": True}],
    }

    data = await api.ok(CREATE, {"input": given}, key=key)

    errors = data["contactCreate"]["userErrors"]
    assert data["contactCreate"]["contact"] is None
    assert [(e["field"], e["message"]) for e in errors] == [
        (
            ["input", "attributes", "1"],
            "shoe_size: unknown attribute: define it first (accountAttributeCreate)",
        ),
        (["input", "attributes", "2"], "age: expected a number, got 'thirty'"),
        (["input", "attributes", "3"], "age: 200 is above the maximum 150"),
        (["input", "attributes", "4"], "fav_fruits: expected an array, got 'apple'"),
        (
            ["input", "attributes", "5"],
            "location: unknown geo field 'planet': use ['city', 'country', 'loc', 'postal_code', 'state', 'street_address', 'street_address2', 'tz']",
        ),
        (["input", "attributes", "6"], "points: give exactly one of value, inc, add, remove, unset"),
        (["input", "lists", "0", "key"], "Unknown list 'gold'"),
    ]
    assert {e["code"] for e in errors} == {"VALIDATION_ERROR"}
    assert await api.db[CONTACTS].count_documents({}) == 0


async def test_required_attributes_and_validators_apply(api: Api, key: str) -> None:
    await create_attribute(
        Tenant("acme", api.db),
        AttributeDefinition(
            "zip", "Zip", AttributeType.STRING, validators=Validators(required=True, pattern=r"^\d{5}$")
        ),
    )

    missing = await api.ok(CREATE, {"input": {"channels": {"email": {"address": "z@example.com"}}}}, key=key)
    wrong = await api.ok(
        CREATE,
        {
            "input": {
                "channels": {"email": {"address": "z@example.com"}},
                "attributes": [{"key": "zip", "value": "9261"}],
            }
        },
        key=key,
    )
    right = await api.ok(
        CREATE,
        {
            "input": {
                "channels": {"email": {"address": "z@example.com"}},
                "attributes": [{"key": "zip", "value": "92613"}],
            }
        },
        key=key,
    )

    assert missing["contactCreate"]["userErrors"][0]["message"] == "zip: is required"
    assert (
        wrong["contactCreate"]["userErrors"][0]["message"]
        == "zip: '9261' does not match the pattern '^\\\\d{5}$'"
    )
    assert right["contactCreate"]["userErrors"] == []


async def test_upsert_creates_then_updates_by_the_key_in_the_input(api: Api, key: str) -> None:
    first = await api.ok(
        UPSERT,
        {
            "input": {
                "channels": {"email": {"address": "u@example.com"}},
                "attributes": [{"key": "points", "value": 10}],
            }
        },
        key=key,
    )
    second = await api.ok(
        UPSERT,
        {
            "input": {
                "channels": {"email": {"address": "u@example.com"}},
                "attributes": [{"key": "points", "inc": 5}],
            }
        },
        key=key,
    )
    by_custid = await api.ok(
        UPSERT,
        {
            "input": {
                "attributes": [{"key": "custID", "value": "C9"}, {"key": "first_name", "value": "Una"}],
                "channels": {"email": {"address": "una@example.com"}},
            }
        },
        key=key,
    )
    by_custid_again = await api.ok(
        UPSERT,
        {"input": {"attributes": [{"key": "custID", "value": "C9"}, {"key": "points", "value": 1}]}},
        key=key,
    )

    assert first["contactUpsert"]["created"] is True
    assert second["contactUpsert"]["created"] is False
    assert second["contactUpsert"]["contact"]["cID"] == first["contactUpsert"]["contact"]["cID"]
    assert second["contactUpsert"]["contact"]["attributes"] == {"points": 15}
    assert second["contactUpsert"]["contact"]["version"] == 2
    assert by_custid_again["contactUpsert"]["created"] is False
    assert by_custid_again["contactUpsert"]["contact"]["attributes"] == {
        "custID": "C9",
        "first_name": "Una",
        "points": 1,
    }
    assert await api.db[CONTACTS].count_documents({"accountId": "acme"}) == 2
    assert by_custid["contactUpsert"]["userErrors"] == []


async def test_writes_need_contacts_write(api: Api, key: str) -> None:
    from app.auth import ScopeName

    reader = await api.account("acme", frozenset({ScopeName.CONTACTS_READ}))

    body = await api.gql(CREATE, {"input": {"channels": {"email": {"address": "r@example.com"}}}}, key=reader)

    assert body["errors"][0]["extensions"]["requiredScope"] == "contacts:write"
    assert await api.db[CONTACTS].count_documents({}) == 0
