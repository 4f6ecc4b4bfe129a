"""Supplements written through the API: record, delete, limits, the profile export and the
merge option's sourceContact/destinationContact on contacts made by mutations only."""

from __future__ import annotations

from typing import Any

import pytest

from app.db import CONTACTS
from app.sizes import MAX_CONTACT_BYTES
from tests.conftest import Api

RECORD = """mutation($ref: String!, $key: String!, $data: JSON!, $v: Int) {
  supplementRecord(ref: $ref, key: $key, data: $data, expectedVersion: $v) {
    contact { version supplements } userErrors { field message code } } }"""
DELETE = """mutation($ref: String!, $key: String!) { supplementDelete(ref: $ref, key: $key) {
  deleted contact { version supplements } userErrors { field code } } }"""
CREATE = """mutation($email: String!) { contactCreate(input: {channels: {email: {address: $email}}}) {
  contact { cID } userErrors { code } } }"""
MERGE = """mutation($s: String!, $d: String!, $side: MergeSide!) {
  contactMerge(input: {sourceContact: $s, destinationContact: $d, options: {orders: MERGE, events: MERGE,
    cart: DESTINATION_CONTACT, lists: DESTINATION_CONTACT, attributes: DESTINATION_CONTACT,
    supplements: $side, emailChannels: DESTINATION_CONTACT, smsChannels: SOURCE_CONTACT,
    pushChannels: IGNORE}}) {
    contact { supplements } userErrors { code } } }"""


async def record(api: Api, key: str, ref: str, name: str, data: Any, v: int | None = None) -> dict[str, Any]:
    variables = {"ref": ref, "key": name, "data": data, "v": v}
    payload: dict[str, Any] = (await api.ok(RECORD, variables, key=key))["supplementRecord"]
    return payload


async def new_contact(api: Api, key: str, email: str) -> str:
    cid: str = (await api.ok(CREATE, {"email": email}, key=key))["contactCreate"]["contact"]["cID"]
    return cid


async def test_record_replace_and_delete_a_supplement(api: Api, key: str) -> None:
    await new_contact(api, key, "sup@example.com")
    ref = "sup@example.com"

    first = await record(api, key, ref, "loyalty", {"tier": "gold", "since": "2024-01-01", "cards": [1, 2]})
    same = await record(api, key, ref, "loyalty", {"tier": "gold", "since": "2024-01-01", "cards": [1, 2]})
    second = await record(api, key, ref, "vehicle", {"make": "Volvo"})
    replaced = await record(api, key, ref, "loyalty", {"tier": "platinum"}, v=3)
    deleted = (await api.ok(DELETE, {"ref": ref, "key": "vehicle"}, key=key))["supplementDelete"]
    again = (await api.ok(DELETE, {"ref": ref, "key": "vehicle"}, key=key))["supplementDelete"]

    assert first == {
        "contact": {
            "version": 2,
            "supplements": {"loyalty": {"tier": "gold", "since": "2024-01-01", "cards": [1, 2]}},
        },
        "userErrors": [],
    }
    assert same["contact"]["version"] == 2  # nothing changed: no new version
    assert second["contact"]["supplements"]["vehicle"] == {"make": "Volvo"}
    assert replaced["contact"] == {
        "version": 4,
        "supplements": {"loyalty": {"tier": "platinum"}, "vehicle": {"make": "Volvo"}},
    }
    assert deleted == {
        "deleted": True,
        "contact": {"version": 5, "supplements": {"loyalty": {"tier": "platinum"}}},
        "userErrors": [],
    }
    assert (again["deleted"], again["contact"]["version"]) == (False, 5)


@pytest.mark.parametrize(
    ("name", "data", "field", "code"),
    [
        ("9lives", {"a": 1}, ["key"], "VALIDATION_ERROR"),
        ("createdAt", {"a": 1}, ["key"], "VALIDATION_ERROR"),
        ("ok", "x" * 10_001, ["data"], "VALIDATION_ERROR"),
        ("ok", {"deep": [[{"s": "x" * 10_001}]]}, ["data"], "VALIDATION_ERROR"),
        ("ok", [[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]], None, None),  # 21 levels: the JSON scalar
        ("ok", {"$set": 1}, None, None),
        ("ok", {"a.b": 1}, None, None),
    ],
)
async def test_bad_supplements_are_refused_and_write_nothing(
    api: Api, key: str, name: str, data: Any, field: list[str] | None, code: str | None
) -> None:
    await new_contact(api, key, "sup@example.com")

    body = await api.gql(RECORD, {"ref": "sup@example.com", "key": name, "data": data}, key=key)

    if code is None:  # refused by the JSON scalar before the resolver runs
        assert body["errors"][0]["message"].startswith("Variable '$data' has invalid value")
    else:
        assert "errors" not in body, body
        assert body["data"]["supplementRecord"]["userErrors"][0]["field"] == field
        assert body["data"]["supplementRecord"]["userErrors"][0]["code"] == code
    stored = await api.db[CONTACTS].find_one({})
    assert stored is not None
    assert (stored.get("supplements"), stored["version"]) == ({}, 1)


async def test_a_supplement_that_would_pass_the_contact_size_is_refused(api: Api, key: str) -> None:
    await new_contact(api, key, "sup@example.com")
    chunk = {f"k{i}": "x" * 9_000 for i in range(60)}  # ~540 KB each
    ok = await record(api, key, "sup@example.com", "a", chunk)

    too_big = await record(api, key, "sup@example.com", "b", chunk)

    assert ok["userErrors"] == []
    assert too_big["contact"] is None
    assert too_big["userErrors"][0]["field"] == ["data"]
    assert f"a contact is at most {MAX_CONTACT_BYTES / 2**20:.1f} MiB" in too_big["userErrors"][0]["message"]
    stored = await api.db[CONTACTS].find_one({})
    assert stored is not None
    assert list(stored["supplements"]) == ["a"]


async def test_a_version_conflict_and_an_unknown_contact(api: Api, key: str) -> None:
    await new_contact(api, key, "sup@example.com")
    other = await api.account("other")

    stale = await record(api, key, "sup@example.com", "a", {"x": 1}, v=7)
    missing = await record(api, key, "nobody@example.com", "a", {"x": 1})
    foreign = await record(api, other, "sup@example.com", "a", {"x": 1})

    assert stale["userErrors"][0]["code"] == "CONTACTS_VERSION_CONFLICT"
    assert stale["userErrors"][0]["field"] == ["expectedVersion"]
    assert (
        missing["userErrors"][0]["code"] == foreign["userErrors"][0]["code"] == "CONTACTS_CONTACT_NOT_FOUND"
    )
    stored = await api.db[CONTACTS].find_one({})
    assert stored is not None
    assert stored.get("supplements") == {}


@pytest.mark.parametrize(
    ("side", "expected"),
    [
        ("SOURCE_CONTACT", {"shared": {"from": "source"}, "s": [1], "d": {"n": 2}}),
        ("DESTINATION_CONTACT", {"shared": {"from": "destination"}, "s": [1], "d": {"n": 2}}),
    ],
)
async def test_the_merge_option_on_supplements_written_by_the_api(
    api: Api, key: str, side: str, expected: dict[str, Any]
) -> None:
    source = await new_contact(api, key, "source@example.com")
    destination = await new_contact(api, key, "destination@example.com")
    await record(api, key, source, "shared", {"from": "source"})
    await record(api, key, source, "s", [1])
    await record(api, key, destination, "shared", {"from": "destination"})
    await record(api, key, destination, "d", {"n": 2})

    merged = (await api.ok(MERGE, {"s": source, "d": destination, "side": side}, key=key))["contactMerge"]
    read = await api.ok('{ contact(ref: "destination@example.com") { supplements } }', key=key)

    assert merged == {"contact": {"supplements": expected}, "userErrors": []}
    assert read["contact"]["supplements"] == expected


async def test_the_profile_export_carries_the_supplements(api: Api, key: str) -> None:
    await new_contact(api, key, "sup@example.com")
    await record(api, key, "sup@example.com", "loyalty", {"tier": "gold"})
    profile = await api.exported_profile("sup@example.com", key=key)

    assert profile["contact"]["supplements"] == {"loyalty": {"tier": "gold"}}
