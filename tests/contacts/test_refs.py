"""contact(ref): every ref form of DESIGN section 5, malformed and unknown refs, aliases."""

from __future__ import annotations

import pytest
from bson import ObjectId

from app.account.attributes import AttributeDefinition, AttributeType, create_attribute
from app.account.setup import set_identifier_keys
from app.db import CONTACT_ALIASES
from app.tenant import Tenant
from tests.conftest import Api, email_contact

QUERY = 'query($ref: String!) { contact(ref: $ref) { cID email attribute(key: "custID") } }'


@pytest.fixture
async def msmith(api: Api) -> tuple[str, ObjectId]:
    key = await api.account("acme", secondary_keys=("custID",))
    await api.contacts("acme", email_contact("other@example.com", attributes={"custID": "ID9999"}))
    [cid] = await api.contacts(
        "acme",
        {
            **email_contact("msmith@example.com", attributes={"custID": "ID1234"}),
            "channels": {
                "email": {"address": "msmith@example.com", "subscribeStatus": "subscribed"},
                "sms": {"address": "16198880000", "subscribeStatus": "none"},
            },
        },
    )
    return key, cid


@pytest.mark.parametrize(
    "ref",
    [
        "{cid}",
        "{cid_upper}",
        "cID:{cid}",
        "msmith@example.com",
        "MSmith@Example.com",
        "email:msmith@example.com",
        "custID:ID1234",
        "sms:16198880000",
    ],
)
async def test_every_ref_form_finds_the_contact(api: Api, msmith: tuple[str, ObjectId], ref: str) -> None:
    key, cid = msmith

    data = await api.ok(QUERY, {"ref": ref.format(cid=cid, cid_upper=str(cid).upper())}, key=key)

    assert data["contact"] == {"cID": str(cid), "email": "msmith@example.com", "attribute": "ID1234"}


@pytest.mark.parametrize(
    "ref",
    [
        "",
        "   ",
        "cID:nothex",
        "cID:1234",
        "nickname:mark",
        "not-an-email",
        "email:not-an-email",
        "custID:",
        "x" * 600,
    ],
)
async def test_a_malformed_ref_is_a_clear_invalid_primary_key_error(
    api: Api, msmith: tuple[str, ObjectId], ref: str
) -> None:
    key, _ = msmith

    body = await api.gql(QUERY, {"ref": ref}, key=key)

    assert body["data"] == {"contact": None}
    [error] = body["errors"]
    assert error["extensions"]["code"] == "CONTACTS_INVALID_PRIMARY_KEY"
    assert error["extensions"]["field"] == ["ref"]
    assert error["message"].startswith("Incorrect primary key")


@pytest.mark.parametrize(
    "ref", ["nobody@example.com", "custID:ID0000", "cID:" + "a" * 24, "b" * 24, "sms:10000000000"]
)
async def test_an_unknown_ref_gives_null_without_error(
    api: Api, msmith: tuple[str, ObjectId], ref: str
) -> None:
    key, _ = msmith

    body = await api.gql(QUERY, {"ref": ref}, key=key)

    assert body["data"] == {"contact": None}
    assert "errors" not in body


async def test_a_custom_primary_key_makes_bare_values_and_its_prefix_work(api: Api) -> None:
    key = await api.account("shop")
    await create_attribute(
        Tenant("shop", api.db), AttributeDefinition("memberNo", "Member no", AttributeType.NUMBER)
    )
    await set_identifier_keys(Tenant("shop", api.db), "memberNo", [])
    [cid] = await api.contacts("shop", email_contact("m@example.com", attributes={"memberNo": 42}))

    bare = await api.ok(QUERY, {"ref": "42"}, key=key)
    prefixed = await api.ok(QUERY, {"ref": "memberNo:42"}, key=key)
    by_email = await api.ok(QUERY, {"ref": "email:m@example.com"}, key=key)
    wrong_type = await api.gql(QUERY, {"ref": "memberNo:forty-two"}, key=key)

    assert bare["contact"]["cID"] == prefixed["contact"]["cID"] == by_email["contact"]["cID"] == str(cid)
    assert wrong_type["errors"][0]["extensions"]["code"] == "CONTACTS_INVALID_PRIMARY_KEY"


async def test_a_merged_away_cid_resolves_to_the_survivor(api: Api, msmith: tuple[str, ObjectId]) -> None:
    key, survivor = msmith
    gone = ObjectId()
    await api.db[CONTACT_ALIASES].insert_one({"accountId": "acme", "cID": gone, "survivor": survivor})

    bare = await api.ok(QUERY, {"ref": str(gone)}, key=key)
    prefixed = await api.ok(QUERY, {"ref": f"cID:{gone}"}, key=key)

    assert bare["contact"]["cID"] == prefixed["contact"]["cID"] == str(survivor)


async def test_a_ref_lookup_reads_the_contacts_collection_once(
    api: Api, msmith: tuple[str, ObjectId]
) -> None:
    key, _ = msmith
    await api.ok(QUERY, {"ref": "msmith@example.com"}, key=key)  # the key's lastUsedAt is now fresh
    api.commands.reset()

    await api.ok(QUERY, {"ref": "msmith@example.com"}, key=key)

    collections = [command[name] for name, command in api.commands.commands]
    # the account's identifier keys, their attribute types, then the contact (the key is cached)
    assert collections == ["accounts", "attributeDefinitions", "contacts"]
