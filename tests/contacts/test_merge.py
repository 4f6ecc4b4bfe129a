"""contactMerge: every option value, the reference payload, lineage, preview and errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from app.activities import repository as activities
from app.commerce import repository as orders
from app.db import ACTIVITIES, CONTACT_ALIASES, CONTACTS, ORDERS
from app.tenant import Tenant
from tests.conftest import Api

MERGE = """mutation($input: ContactMergeInput!) { contactMerge(input: $input) {
  mergedCID activitiesMoved activitiesDropped ordersMoved ordersDropped
  contact { cID email mergedFrom version } userErrors { field message code } } }"""
PREVIEW = MERGE.replace("mutation", "query").replace("contactMerge(", "contactMergePreview(")
# The reference's option values are GraphQL enums: merge -> MERGE, sourceContact -> SOURCE_CONTACT.
ENUM = {"merge": "MERGE", "ignore": "IGNORE", "sourceContact": "SOURCE_CONTACT",
        "destinationContact": "DESTINATION_CONTACT", "lastModified": "LAST_MODIFIED"}  # fmt: skip


def as_enums(options: dict[str, Any]) -> dict[str, Any]:
    return {k: ENUM.get(v, v) if isinstance(v, str) else v for k, v in options.items()}


REFERENCE_OPTIONS = {
    "orders": "merge",
    "events": "merge",
    "cart": "destinationContact",
    "lists": "destinationContact",
    "attributes": "destinationContact",
    "supplements": "destinationContact",
    "emailChannels": "destinationContact",
    "smsChannels": "sourceContact",
    "pushChannels": "ignore",
}
T0 = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass
class Pair:
    source: ObjectId
    destination: ObjectId


@pytest.fixture
async def pair(api: Api, key: str) -> Pair:
    source = {
        "channels": {
            "email": {"address": "sam@example.com", "subscribeStatus": "subscribed"},
            "sms": {"address": "16195550001", "subscribeStatus": "subscribed"},
            "push": [
                {"token": "tok-s", "subscribeStatus": "subscribed"},
                {"token": "tok-both", "platform": "android"},
            ],
        },
        "attributes": {"first_name": "Sam", "points": 5, "custID": "C-S"},
        "lists": ["safe-driver"],
        "supplements": {"shared": "from-source", "s": 1},
        "cart": {"items": [{"productID": "S1", "qty": 1}], "lastModified": T0 + timedelta(days=9)},
    }
    destination = {
        "channels": {
            "email": {"address": "dee@example.com", "subscribeStatus": "none"},
            "push": [{"token": "tok-d"}, {"token": "tok-both", "platform": "ios"}],
        },
        "attributes": {"first_name": "Dee", "age": 40},
        "lists": ["auto-enthusiast"],
        "supplements": {"shared": "from-destination", "d": 1},
        "cart": {"items": [{"productID": "D1", "qty": 2}], "lastModified": T0 + timedelta(days=1)},
    }
    s, d = await api.contacts("acme", source, destination)
    await activities.insert_many(
        Tenant("acme", api.db), [{"cID": s, "action": "browse", "ats": T0} for _ in range(3)]
    )
    await activities.insert_many(
        Tenant("acme", api.db), [{"cID": d, "action": "browse", "ats": T0} for _ in range(2)]
    )
    await orders.insert_many(
        Tenant("acme", api.db), [{"cID": s, "orderID": f"S{i}", "purchaseDate": T0} for i in range(2)]
    )
    await orders.insert_many(Tenant("acme", api.db), [{"cID": d, "orderID": "D0", "purchaseDate": T0}])
    return Pair(s, d)


async def merge(api: Api, key: str, pair: Pair, query: str = MERGE, **options: str) -> dict[str, Any]:
    given = {
        "sourceContact": str(pair.source),
        "destinationContact": str(pair.destination),
        "options": as_enums({**REFERENCE_OPTIONS, **options}),
    }
    data = await api.ok(query, {"input": given}, key=key)
    payload: dict[str, Any] = data["contactMerge" if query is MERGE else "contactMergePreview"]
    return payload


async def survivor(api: Api, pair: Pair) -> dict[str, Any]:
    doc = await api.db[CONTACTS].find_one({"_id": pair.destination})
    assert doc is not None
    return doc


async def test_reference_example_payload(api: Api, key: str, pair: Pair) -> None:
    payload = await merge(api, key, pair)

    assert payload["userErrors"] == []
    assert (payload["mergedCID"], payload["contact"]["cID"]) == (str(pair.source), str(pair.destination))
    assert (payload["activitiesMoved"], payload["ordersMoved"]) == (3, 2)
    assert payload["contact"]["mergedFrom"] == [str(pair.source)]
    doc = await survivor(api, pair)
    assert (
        doc["channels"]["sms"]["address"] == "16195550001"
    )  # the source's sms number, as the reference says
    assert doc["channels"]["email"]["address"] == "dee@example.com"
    assert [t["token"] for t in doc["channels"]["push"]] == ["tok-d", "tok-both"]
    assert doc["version"] == 2
    assert doc["lastModified"] > T0
    assert await api.db[CONTACTS].count_documents({"_id": pair.source}) == 0
    assert await api.db[ACTIVITIES].count_documents({"cID": pair.destination}) == 5
    assert await api.db[ORDERS].count_documents({"cID": pair.destination}) == 3


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("attributes", "sourceContact", {"first_name": "Sam", "points": 5, "custID": "C-S", "age": 40}),
        ("attributes", "destinationContact", {"first_name": "Dee", "points": 5, "custID": "C-S", "age": 40}),
        ("supplements", "sourceContact", {"shared": "from-source", "s": 1, "d": 1}),
        ("supplements", "destinationContact", {"shared": "from-destination", "s": 1, "d": 1}),
        ("lists", "sourceContact", ["safe-driver"]),
        ("lists", "destinationContact", ["auto-enthusiast"]),
        ("emailChannels", "sourceContact", "sam@example.com"),
        ("emailChannels", "destinationContact", "dee@example.com"),
        ("smsChannels", "sourceContact", "16195550001"),
        ("smsChannels", "destinationContact", "16195550001"),  # the destination has none: kept
        ("pushChannels", "merge", [("tok-s", None), ("tok-both", "ios"), ("tok-d", None)]),
        ("pushChannels", "ignore", [("tok-d", None), ("tok-both", "ios")]),
        ("cart", "sourceContact", ["S1"]),
        ("cart", "destinationContact", ["D1"]),
        ("cart", "lastModified", ["S1"]),
    ],
)
async def test_each_option_value(
    api: Api, key: str, pair: Pair, option: str, value: str, expected: Any
) -> None:
    payload = await merge(api, key, pair, **{option: value})

    assert payload["userErrors"] == []
    doc = await survivor(api, pair)
    channels = doc["channels"]
    actual = {
        "attributes": doc["attributes"],
        "supplements": doc["supplements"],
        "lists": doc["lists"],
        "emailChannels": channels["email"]["address"],
        "smsChannels": channels.get("sms", {}).get("address"),
        "pushChannels": [(t["token"], t.get("platform")) for t in channels.get("push", [])],
        "cart": [i["productID"] for i in doc.get("cart", {}).get("items", [])],
    }[option]
    assert actual == expected


@pytest.mark.parametrize(
    ("option", "collection", "moved"), [("events", ACTIVITIES, 3), ("orders", ORDERS, 2)]
)
@pytest.mark.parametrize("value", ["merge", "ignore"])
async def test_events_and_orders_merge_or_ignore(
    api: Api, key: str, pair: Pair, option: str, collection: str, moved: int, value: str
) -> None:
    own = await api.db[collection].count_documents({"cID": pair.destination})

    payload = await merge(api, key, pair, **{option: value})

    noun = "activities" if option == "events" else "orders"
    assert payload[f"{noun}Moved"] == (moved if value == "merge" else 0)
    assert payload[f"{noun}Dropped"] == (0 if value == "merge" else moved)
    assert await api.db[collection].count_documents({"cID": pair.source}) == 0
    assert await api.db[collection].count_documents({"cID": pair.destination}) == own + (
        moved if value == "merge" else 0
    )


async def test_moved_identifiers_and_the_merged_cid_resolve_to_the_survivor(
    api: Api, key: str, pair: Pair
) -> None:
    await merge(api, key, pair, attributes="sourceContact", emailChannels="sourceContact")
    query = "query($r: String!) { contact(ref: $r) { cID mergedFrom } }"

    for ref in (str(pair.source), f"cID:{pair.source}", "sam@example.com", "custID:C-S", "sms:16195550001"):
        data = await api.ok(query, {"r": ref}, key=key)
        assert data["contact"]["cID"] == str(pair.destination), ref
    update = await api.ok(
        'mutation($r: String!) { contactUpdate(ref: $r, input: {attributes: [{key: "points", inc: 1}]}) { contact { cID } } }',
        {"r": str(pair.source)},
        key=key,
    )
    assert update["contactUpdate"]["contact"]["cID"] == str(pair.destination)


async def test_lineage_follows_chains_of_merges(api: Api, key: str, pair: Pair) -> None:
    [third] = await api.contacts(
        "acme", {"channels": {"email": {"address": "third@example.com"}}, "attributes": {}}
    )
    first = Pair(source=third, destination=pair.source)
    await merge(api, key, first)

    payload = await merge(api, key, pair)

    assert payload["contact"]["mergedFrom"] == [str(pair.source), str(third)]
    data = await api.ok(f'{{ contact(ref: "{third}") {{ cID }} }}', key=key)
    assert data["contact"]["cID"] == str(pair.destination)
    assert await api.db[CONTACT_ALIASES].count_documents({"survivor": pair.destination}) == 2


async def test_preview_shows_the_result_and_writes_nothing(api: Api, key: str, pair: Pair) -> None:
    before = await api.db[CONTACTS].find({}).sort("_id", 1).to_list()

    payload = await merge(api, key, pair, PREVIEW, events="ignore", emailChannels="sourceContact")

    assert payload["userErrors"] == []
    assert payload["contact"]["email"] == "sam@example.com"
    assert (payload["activitiesDropped"], payload["ordersMoved"]) == (3, 2)
    assert payload["contact"]["mergedFrom"] == [str(pair.source)]
    assert await api.db[CONTACTS].find({}).sort("_id", 1).to_list() == before
    assert await api.db[ACTIVITIES].count_documents({"cID": pair.source}) == 3
    assert await api.db[CONTACT_ALIASES].count_documents({}) == 0


async def test_errors(api: Api, key: str, pair: Pair) -> None:
    async def attempt(source: str, destination: str, **options: Any) -> list[dict[str, Any]]:
        given = {
            "sourceContact": source,
            "destinationContact": destination,
            "options": as_enums({**REFERENCE_OPTIONS, **options}),
        }
        data = await api.ok(MERGE, {"input": given}, key=key)
        errors: list[dict[str, Any]] = data["contactMerge"]["userErrors"]
        return errors

    same = await attempt(str(pair.source), "sam@example.com")
    unknown = await attempt("nobody@example.com", str(pair.destination))
    malformed = await attempt(str(pair.source), "cID:12")
    missing = await attempt(str(pair.source), str(pair.destination), cart=None, lists=None)
    invalid = await api.gql(
        MERGE,
        {"input": {"sourceContact": str(pair.source), "destinationContact": str(pair.destination),
                   "options": as_enums({**REFERENCE_OPTIONS, "orders": "keep"})}},
        key=key,
    )  # fmt: skip

    assert same == [
        {
            "field": ["input", "destinationContact"],
            "message": "Source and destination are the same contact",
            "code": "VALIDATION_ERROR",
        }
    ]
    assert unknown == [
        {
            "field": ["input", "sourceContact"],
            "message": "Contact not found",
            "code": "CONTACTS_CONTACT_NOT_FOUND",
        }
    ]
    assert malformed[0]["code"] == "CONTACTS_INVALID_PRIMARY_KEY"
    assert [(e["field"], e["message"]) for e in missing] == [
        (["input", "options", "cart"], "Option cart is required"),
        (["input", "options", "lists"], "Option lists is required"),
    ]
    # An unknown value is refused by GraphQL itself now that the options are enums.
    assert "Value 'keep' does not exist in 'MergeItems' enum" in invalid["errors"][0]["message"]
    assert await api.db[CONTACTS].count_documents({}) == 2


async def test_merge_needs_contacts_write(api: Api, key: str, pair: Pair) -> None:
    from app.auth import ScopeName

    reader = await api.account("acme", frozenset({ScopeName.CONTACTS_READ}))

    body = await api.gql(
        MERGE,
        {
            "input": {
                "sourceContact": str(pair.source),
                "destinationContact": str(pair.destination),
                "options": as_enums(REFERENCE_OPTIONS),
            }
        },
        key=reader,
    )
    preview = await merge(api, reader, pair, PREVIEW)

    assert body["errors"][0]["extensions"]["requiredScope"] == "contacts:write"
    assert preview["userErrors"] == []
    assert await api.db[CONTACTS].count_documents({}) == 2
