"""Account configuration through GraphQL: attributes (types, validators), lists, identifier keys."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, email_contact

CREATE_ATTRIBUTE = """mutation($input: AccountAttributeCreateInput!) {
  accountAttributeCreate(input: $input) {
    attribute { key name type maxItems validators { required pattern min max enum } }
    userErrors { field message code }
  }
}"""


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            {"key": "first_name", "type": "STRING"},
            {"key": "first_name", "name": "first_name", "type": "STRING", "maxItems": None},
        ),
        (
            {"key": "age", "name": "Age", "type": "NUMBER", "validators": {"min": 0, "max": 150}},
            {"key": "age", "name": "Age", "type": "NUMBER", "maxItems": None},
        ),
        (
            {"key": "birthday", "type": "DATE", "validators": {"required": True}},
            {"key": "birthday", "name": "birthday", "type": "DATE", "maxItems": None},
        ),
        (
            {"key": "location", "type": "GEO"},
            {"key": "location", "name": "location", "type": "GEO", "maxItems": None},
        ),
        (
            {"key": "fav_fruits", "type": "ARRAY"},
            {"key": "fav_fruits", "name": "fav_fruits", "type": "ARRAY", "maxItems": 25},
        ),
        (
            {"key": "tags", "type": "ARRAY", "maxItems": 3, "validators": {"enum": ["a", "b"]}},
            {"key": "tags", "name": "tags", "type": "ARRAY", "maxItems": 3},
        ),
        (
            {"key": "zip", "type": "STRING", "validators": {"pattern": "^[0-9]{5}$"}},
            {"key": "zip", "name": "zip", "type": "STRING", "maxItems": None},
        ),
    ],
)
async def test_attribute_create_for_every_type(
    api: Api, given: dict[str, Any], expected: dict[str, Any]
) -> None:
    key = await api.account("acme")

    data = await api.ok(CREATE_ATTRIBUTE, {"input": given}, key=key)

    payload = data["accountAttributeCreate"]
    assert payload["userErrors"] == []
    attribute = payload["attribute"]
    assert {k: attribute[k] for k in expected} == expected
    stored = await api.db["attributeDefinitions"].find_one({"accountId": "acme", "key": given["key"]})
    assert stored is not None
    assert stored["type"] == given["type"].lower()
    assert stored["maxItems"] == expected["maxItems"]
    listed = await api.ok("{ account { attributes { key } } }", key=key)
    assert listed["account"]["attributes"] == [{"key": given["key"]}]


@pytest.mark.parametrize(
    ("given", "code", "field", "message"),
    [
        ({"key": "bad key", "type": "STRING"}, "VALIDATION_ERROR", ["input", "key"], "Invalid key"),
        ({"key": "$where", "type": "STRING"}, "VALIDATION_ERROR", ["input", "key"], "Invalid key"),
        ({"key": "a.b", "type": "STRING"}, "VALIDATION_ERROR", ["input", "key"], "Invalid key"),
        ({"key": "email", "type": "STRING"}, "VALIDATION_ERROR", ["input", "key"], "Key 'email' is reserved"),
        (
            {"key": "x", "type": "STRING", "validators": {"pattern": "("}},
            "VALIDATION_ERROR",
            ["input", "validators", "pattern"],
            "Invalid pattern",
        ),
        (
            {"key": "x", "type": "NUMBER", "validators": {"min": 5, "max": 1}},
            "VALIDATION_ERROR",
            ["input", "validators", "min"],
            "min is greater than max",
        ),
        (
            {"key": "x", "type": "NUMBER", "validators": {"enum": ["a"]}},
            "VALIDATION_ERROR",
            ["input", "validators", "enum"],
            "enum applies",
        ),
        (
            {"key": "x", "type": "STRING", "maxItems": 5},
            "VALIDATION_ERROR",
            ["input", "maxItems"],
            "maxItems applies to array",
        ),
        (
            {"key": "x", "type": "ARRAY", "maxItems": 0},
            "VALIDATION_ERROR",
            ["input", "maxItems"],
            "maxItems must be between",
        ),
    ],
)
async def test_invalid_attribute_definitions_are_user_errors_and_store_nothing(
    api: Api, given: dict[str, Any], code: str, field: list[str], message: str
) -> None:
    key = await api.account("acme")

    data = await api.ok(CREATE_ATTRIBUTE, {"input": given}, key=key)

    payload = data["accountAttributeCreate"]
    assert payload["attribute"] is None
    [error] = payload["userErrors"]
    assert (error["code"], error["field"]) == (code, field)
    assert error["message"].startswith(message), error["message"]
    assert await api.db["attributeDefinitions"].count_documents({"accountId": "acme"}) == 0


async def test_a_duplicate_attribute_is_account_attribute_exists(api: Api) -> None:
    key = await api.account("acme")
    await api.ok(CREATE_ATTRIBUTE, {"input": {"key": "age", "type": "NUMBER"}}, key=key)

    data = await api.ok(CREATE_ATTRIBUTE, {"input": {"key": "age", "type": "STRING"}}, key=key)

    assert data["accountAttributeCreate"]["userErrors"][0]["code"] == "ACCOUNT_ATTRIBUTE_EXISTS"
    stored = await api.db["attributeDefinitions"].find({"accountId": "acme"}).to_list()
    assert [(d["key"], d["type"]) for d in stored] == [("age", "number")]


async def test_the_same_attribute_key_may_exist_in_two_accounts(api: Api) -> None:
    key_a = await api.account("alpha")
    key_b = await api.account("beta")

    a = await api.ok(CREATE_ATTRIBUTE, {"input": {"key": "age", "type": "NUMBER"}}, key=key_a)
    b = await api.ok(CREATE_ATTRIBUTE, {"input": {"key": "age", "type": "STRING"}}, key=key_b)

    assert a["accountAttributeCreate"]["userErrors"] == b["accountAttributeCreate"]["userErrors"] == []


async def test_lists_are_created_once_and_share_the_key_space_with_attributes(api: Api) -> None:
    key = await api.account("acme")
    mutation = """mutation($key: String!, $name: String) { accountListCreate(input: {key: $key, name: $name}) {
      list { key name } userErrors { field message code } } }"""
    await api.ok(CREATE_ATTRIBUTE, {"input": {"key": "age", "type": "NUMBER"}}, key=key)

    created = await api.ok(mutation, {"key": "safe-driver", "name": "Safe drivers"}, key=key)
    again = await api.ok(mutation, {"key": "safe-driver"}, key=key)
    clash = await api.ok(mutation, {"key": "age"}, key=key)
    attribute_clash = await api.ok(
        CREATE_ATTRIBUTE, {"input": {"key": "safe-driver", "type": "STRING"}}, key=key
    )

    assert created["accountListCreate"] == {
        "list": {"key": "safe-driver", "name": "Safe drivers"},
        "userErrors": [],
    }
    assert again["accountListCreate"]["userErrors"][0]["code"] == "ACCOUNT_LIST_EXISTS"
    assert clash["accountListCreate"]["userErrors"][0]["message"] == "Key 'age' is already an attribute key"
    assert (
        attribute_clash["accountAttributeCreate"]["userErrors"][0]["message"]
        == "Key 'safe-driver' is already a list key"
    )
    assert (await api.ok("{ account { lists { key name } } }", key=key))["account"]["lists"] == [
        {"key": "safe-driver", "name": "Safe drivers"}
    ]


async def test_identifier_keys_are_set_validated_and_unique(api: Api) -> None:
    key = await api.account("acme")
    mutation = """mutation($input: AccountIdentifierKeysInput!) { accountIdentifierKeysSet(input: $input) {
      account { primaryKey secondaryKeys } userErrors { field message code } } }"""
    await api.ok(CREATE_ATTRIBUTE, {"input": {"key": "custID", "type": "STRING"}}, key=key)
    await api.ok(CREATE_ATTRIBUTE, {"input": {"key": "fav", "type": "ARRAY"}}, key=key)

    undefined = await api.ok(mutation, {"input": {"secondaryKeys": ["loyaltyNo"]}}, key=key)
    wrong_type = await api.ok(mutation, {"input": {"secondaryKeys": ["fav"]}}, key=key)
    ok = await api.ok(mutation, {"input": {"secondaryKeys": ["custID"]}}, key=key)

    assert undefined["accountIdentifierKeysSet"]["userErrors"][0]["field"] == ["secondaryKeys", "0"]
    assert (
        "must be a defined string or number attribute"
        in wrong_type["accountIdentifierKeysSet"]["userErrors"][0]["message"]
    )
    assert ok["accountIdentifierKeysSet"] == {
        "account": {"primaryKey": "email", "secondaryKeys": ["custID"]},
        "userErrors": [],
    }
    # the secondary key is unique per account: the database refuses a second C1
    await api.contacts("acme", email_contact("a@example.com", attributes={"custID": "C1"}))
    from pymongo.errors import BulkWriteError

    with pytest.raises(BulkWriteError, match="duplicate key"):
        await api.contacts("acme", email_contact("b@example.com", attributes={"custID": "C1"}))


async def test_identifier_keys_cannot_become_unique_over_duplicate_data(api: Api) -> None:
    key = await api.account("acme")
    await api.ok(CREATE_ATTRIBUTE, {"input": {"key": "store", "type": "STRING"}}, key=key)
    await api.contacts(
        "acme",
        email_contact("a@example.com", attributes={"store": "S1"}),
        email_contact("b@example.com", attributes={"store": "S1"}),
    )

    data = await api.ok(
        'mutation { accountIdentifierKeysSet(input: {secondaryKeys: ["store"]}) { userErrors { code message } } }',
        key=key,
    )

    assert data["accountIdentifierKeysSet"]["userErrors"][0]["code"] == "VALIDATION_ERROR"
    account = await api.db["accounts"].find_one({"_id": "acme"})
    assert account is not None
    assert account["secondaryKeys"] == []
