"""contacts(where, audience, sort, first, after): filters, sorts, cursor paging, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from app.account.attributes import AttributeDefinition, AttributeType, create_attribute
from app.account.audiences import create_audience
from app.account.lists import create_list
from app.tenant import Tenant
from tests.conftest import Api, email_contact

T0 = datetime(2025, 1, 1, tzinfo=UTC)  # created/modified day k is 2025-01-(1+k)
PEOPLE = [
    # name, age, points, birthday, city, fruits, lists, status, created day, modified day
    ("ann", 25, 10, "1999-05-01", "Austin", ["apple", "kiwi"], ["safe-driver"], "subscribed", 1, 9),
    ("bob", 32, 75, "1992-02-10", "Boston", ["banana"], ["safe-driver", "newsletter"], "none", 2, 3),
    ("cat", 41, 75, "1983-07-21", "Austin", [], ["newsletter"], "unsubscribed", 3, 8),
    ("dan", 58, 300, "1966-11-30", "Denver", ["apple"], [], "subscribed", 4, 4),
    ("eve", None, 5, None, None, None, ["auto-enthusiast"], "subscribed", 5, 6),
]
QUERY = """query($where: ContactWhere, $sort: ContactSort, $audience: String, $first: Int, $after: String) {
  contacts(where: $where, sort: $sort, audience: $audience, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { attribute(key: "first_name") } }
  }
}"""


@pytest.fixture
async def key(api: Api) -> str:
    key = await api.account("acme")
    for definition in (
        AttributeDefinition("first_name", "First name", AttributeType.STRING),
        AttributeDefinition("age", "Age", AttributeType.NUMBER),
        AttributeDefinition("points", "Points", AttributeType.NUMBER),
        AttributeDefinition("birthday", "Birthday", AttributeType.DATE),
        AttributeDefinition("location", "Location", AttributeType.GEO),
        AttributeDefinition("fav_fruits", "Fruits", AttributeType.ARRAY),
    ):
        await create_attribute(Tenant("acme", api.db), definition)
    for list_key in ("safe-driver", "newsletter", "auto-enthusiast"):
        await create_list(Tenant("acme", api.db), list_key, None)
    docs = []
    for name, age, points, birthday, city, fruits, lists, status, created, modified in PEOPLE:
        attributes: dict[str, Any] = {"first_name": name, "points": points}
        if age is not None:
            attributes["age"] = age
        if birthday is not None:
            attributes["birthday"] = datetime.fromisoformat(birthday).replace(tzinfo=UTC)
        if city is not None:
            attributes["location"] = {
                "city": city,
                "country": "US",
                "loc": {"lat": 30.0 + created, "lon": -97.0},
            }
        if fruits is not None:
            attributes["fav_fruits"] = fruits
        doc = email_contact(f"{name}@example.com", attributes=attributes, lists=lists)
        doc["channels"]["email"]["subscribeStatus"] = status
        doc["createdAt"] = T0 + timedelta(days=created)
        doc["lastModified"] = T0 + timedelta(days=modified)
        docs.append(doc)
    await api.contacts("acme", *docs)
    return key


async def names(api: Api, key: str, **variables: Any) -> list[str]:
    data = await api.ok(QUERY, variables, key=key)
    result = [e["node"]["attribute"] for e in data["contacts"]["edges"]]
    assert data["contacts"]["totalCount"] >= len(result)
    return result


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"key": "first_name", "eq": "bob"}, ["bob"]),
        ({"key": "first_name", "ne": "bob"}, ["ann", "cat", "dan", "eve"]),
        ({"key": "first_name", "in": ["ann", "eve", "zed"]}, ["ann", "eve"]),
        ({"key": "age", "gt": 32}, ["cat", "dan"]),
        ({"key": "age", "gte": 32}, ["bob", "cat", "dan"]),
        ({"key": "age", "lt": 32}, ["ann"]),
        ({"key": "age", "lte": 32}, ["ann", "bob"]),
        ({"key": "age", "gte": 30, "lte": 45}, ["bob", "cat"]),
        ({"key": "age", "exists": False}, ["eve"]),
        ({"key": "age", "exists": True}, ["ann", "bob", "cat", "dan"]),
        ({"key": "points", "eq": 75}, ["bob", "cat"]),
        ({"key": "points", "in": [5, 300]}, ["dan", "eve"]),
        ({"key": "birthday", "lt": "1990-01-01T00:00:00Z"}, ["cat", "dan"]),
        ({"key": "birthday", "gte": "1992-02-10 00:00:00"}, ["ann", "bob"]),
        ({"key": "fav_fruits", "eq": "apple"}, ["ann", "dan"]),
        ({"key": "fav_fruits", "in": ["kiwi", "banana"]}, ["ann", "bob"]),
        ({"key": "fav_fruits", "ne": "apple"}, ["bob", "cat", "eve"]),
        ({"key": "location.city", "eq": "Austin"}, ["ann", "cat"]),
        ({"key": "location.loc.lat", "gt": 32.5}, ["cat", "dan"]),
        ({"key": "location", "exists": False}, ["eve"]),
    ],
)
async def test_attribute_filters(api: Api, key: str, condition: dict[str, Any], expected: list[str]) -> None:
    assert await names(api, key, where={"attributes": [condition]}) == expected


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"inLists": ["safe-driver"]}, ["ann", "bob"]),
        ({"inLists": ["safe-driver", "newsletter"]}, ["bob"]),
        ({"notInLists": ["safe-driver", "newsletter"]}, ["dan", "eve"]),
        ({"emailSubscribeStatus": "SUBSCRIBED"}, ["ann", "dan", "eve"]),
        ({"emailSubscribeStatus": "UNSUBSCRIBED"}, ["cat"]),
        ({"emailSubscribeStatus": "NONE"}, ["bob"]),
        ({"emailAddress": "Cat@Example.com"}, ["cat"]),
        ({"createdAt": {"gte": "2025-01-04T00:00:00Z"}}, ["cat", "dan", "eve"]),
        (
            {"createdAt": {"between": {"start": "2025-01-03 00:00:00", "end": "2025-01-05 00:00:00"}}},
            ["bob", "cat", "dan"],
        ),
        ({"lastModified": {"lt": "2025-01-06T00:00:00Z"}}, ["bob", "dan"]),
        ({"lastModified": {"gt": "2025-01-09T00:00:00Z", "lte": "2025-01-10T00:00:00Z"}}, ["ann"]),
        (
            {
                "inLists": ["newsletter"],
                "attributes": [{"key": "points", "eq": 75}, {"key": "age", "gt": 35}],
            },
            ["cat"],
        ),
    ],
)
async def test_list_status_and_date_filters(
    api: Api, key: str, where: dict[str, Any], expected: list[str]
) -> None:
    assert await names(api, key, where=where) == expected


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (None, ["ann", "bob", "cat", "dan", "eve"]),
        ({"field": "CREATED_AT", "direction": "DESC"}, ["eve", "dan", "cat", "bob", "ann"]),
        ({"field": "LAST_MODIFIED"}, ["bob", "dan", "eve", "cat", "ann"]),
        ({"field": "LAST_MODIFIED", "direction": "DESC"}, ["ann", "cat", "eve", "dan", "bob"]),
        ({"field": "ATTRIBUTE", "attribute": "age"}, ["eve", "ann", "bob", "cat", "dan"]),
        (
            {"field": "ATTRIBUTE", "attribute": "age", "direction": "DESC"},
            ["dan", "cat", "bob", "ann", "eve"],
        ),
        ({"field": "ATTRIBUTE", "attribute": "points"}, ["eve", "ann", "bob", "cat", "dan"]),
        ({"field": "ATTRIBUTE", "attribute": "location.city"}, ["eve", "ann", "cat", "bob", "dan"]),
    ],
)
async def test_sort_orders(api: Api, key: str, sort: dict[str, Any] | None, expected: list[str]) -> None:
    assert await names(api, key, sort=sort) == expected


@pytest.mark.parametrize(
    "sort",
    [
        None,
        {"field": "LAST_MODIFIED", "direction": "DESC"},
        {"field": "ATTRIBUTE", "attribute": "age"},
        {"field": "ATTRIBUTE", "attribute": "age", "direction": "DESC"},
        {"field": "ATTRIBUTE", "attribute": "points", "direction": "DESC"},
        {"field": "ATTRIBUTE", "attribute": "location.city"},
    ],
)
@pytest.mark.parametrize("page", [1, 2, 3])
async def test_walking_all_pages_yields_each_contact_once_in_order(
    api: Api, key: str, sort: dict[str, Any] | None, page: int
) -> None:
    expected = await names(api, key, sort=sort, first=100)
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        data = await api.ok(QUERY, {"sort": sort, "first": page, "after": after}, key=key)
        connection = data["contacts"]
        assert connection["totalCount"] == 5
        assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen.extend(e["node"]["attribute"] for e in connection["edges"])
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            break
        assert connection["pageInfo"]["endCursor"] == connection["edges"][-1]["cursor"]
        after = connection["pageInfo"]["endCursor"]
    assert seen == expected
    assert pages == -(-5 // page)


async def test_paging_with_a_filter_keeps_the_filtered_total(api: Api, key: str) -> None:
    first = await api.ok(QUERY, {"where": {"inLists": ["newsletter"]}, "first": 1}, key=key)
    after = first["contacts"]["pageInfo"]["endCursor"]
    second = await api.ok(QUERY, {"where": {"inLists": ["newsletter"]}, "first": 1, "after": after}, key=key)

    assert first["contacts"]["totalCount"] == second["contacts"]["totalCount"] == 2
    assert [e["node"]["attribute"] for e in second["contacts"]["edges"]] == ["cat"]
    assert second["contacts"]["pageInfo"]["hasNextPage"] is False


async def test_a_saved_audience_filters_and_combines_with_where(api: Api, key: str) -> None:
    await create_audience(
        Tenant("acme", api.db), "engaged", "Engaged", {"emailSubscribeStatus": "subscribed"}
    )

    assert await names(api, key, audience="engaged") == ["ann", "dan", "eve"]
    assert await names(api, key, audience="engaged", where={"attributes": [{"key": "age", "gt": 30}]}) == [
        "dan"
    ]


async def test_audience_create_through_graphql_validates_and_saves_the_rule(api: Api, key: str) -> None:
    mutation = """mutation($input: AudienceCreateInput!) {
      audienceCreate(input: $input) { audience { key rule } userErrors { field message code } } }"""

    ok = await api.ok(
        mutation,
        {"input": {"key": "austin", "rule": {"attributes": [{"key": "location.city", "eq": "Austin"}]}}},
        key=key,
    )
    bad = await api.ok(
        mutation, {"input": {"key": "bad", "rule": {"attributes": [{"key": "shoe_size", "eq": 9}]}}}, key=key
    )

    assert ok["audienceCreate"]["userErrors"] == []
    assert await names(api, key, audience="austin") == ["ann", "cat"]
    assert bad["audienceCreate"] == {
        "audience": None,
        "userErrors": [
            {
                "field": ["rule", "attributes", "0", "key"],
                "message": "Unknown attribute 'shoe_size': define it first (accountAttributeCreate)",
                "code": "CONTACTS_INVALID_SEARCH_FIELD",
            }
        ],
    }
    assert await api.db["audiences"].count_documents({"key": "bad"}) == 0


async def test_page_size_up_to_ten_thousand(api: Api, key: str) -> None:
    data = await api.ok(QUERY, {"first": 10_000}, key=key)

    assert len(data["contacts"]["edges"]) == 5


async def test_default_page_size_is_25(api: Api) -> None:
    key = await api.account("big")
    await api.contacts("big", *[email_contact(f"c{i}@example.com") for i in range(30)])

    data = await api.ok("{ contacts { totalCount edges { cursor } pageInfo { hasNextPage } } }", key=key)

    assert len(data["contacts"]["edges"]) == 25
    assert data["contacts"]["totalCount"] == 30
    assert data["contacts"]["pageInfo"]["hasNextPage"] is True


@pytest.mark.parametrize(
    ("variables", "code", "field", "message"),
    [
        ({"first": 10_001}, "VALIDATION_ERROR", ["first"], "'first' must be between 0 and 10000"),
        ({"first": -1}, "VALIDATION_ERROR", ["first"], "'first' must be between 0 and 10000"),
        ({"after": "garbage!"}, "INVALID_CURSOR", ["after"], "'after' is not a valid cursor"),
        ({"after": "WyJ4Il0"}, "INVALID_CURSOR", ["after"], "'after' is not a valid cursor"),
        (
            {"where": {"attributes": [{"key": "shoe_size", "eq": 9}]}},
            "CONTACTS_INVALID_SEARCH_FIELD",
            ["where", "attributes", "0", "key"],
            "Unknown attribute 'shoe_size'",
        ),
        (
            {"where": {"attributes": [{"key": "age", "gt": "old"}]}},
            "VALIDATION_ERROR",
            ["where", "attributes", "0"],
            "Attribute 'age': expected a number",
        ),
        (
            {"where": {"attributes": [{"key": "birthday", "lt": "yesterday"}]}},
            "VALIDATION_ERROR",
            ["where", "attributes", "0"],
            "Attribute 'birthday': Invalid date-time",
        ),
        (
            {"where": {"attributes": [{"key": "fav_fruits", "gt": "a"}]}},
            "VALIDATION_ERROR",
            ["where", "attributes", "0"],
            "Attribute 'fav_fruits': 'gt' compares",
        ),
        (
            {"where": {"attributes": [{"key": "age"}]}},
            "VALIDATION_ERROR",
            ["where", "attributes", "0"],
            "Attribute 'age': give an operator",
        ),
        (
            {"where": {"attributes": [{"key": "location.planet", "eq": "Mars"}]}},
            "CONTACTS_INVALID_SEARCH_FIELD",
            ["where", "attributes", "0", "key"],
            "Unknown attribute 'location.planet'",
        ),
        ({"where": {"inLists": ["nope"]}}, "VALIDATION_ERROR", ["where", "inLists"], "Unknown list 'nope'"),
        (
            {"where": {"createdAt": {}}},
            "VALIDATION_ERROR",
            ["where", "createdAt"],
            "Give at least one of lt, lte, gt, gte, between",
        ),
        ({"audience": "nobody"}, "ACCOUNT_AUDIENCE_NOT_FOUND", ["audience"], "No audience 'nobody'"),
        (
            {"sort": {"field": "ATTRIBUTE", "attribute": "fav_fruits"}},
            "VALIDATION_ERROR",
            ["sort", "attribute"],
            "Cannot sort by array attribute",
        ),
        (
            {"sort": {"field": "ATTRIBUTE"}},
            "CONTACTS_INVALID_SEARCH_FIELD",
            ["sort", "attribute"],
            "Sorting by ATTRIBUTE needs",
        ),
    ],
)
async def test_bad_input_gets_a_clear_error_naming_the_argument(
    api: Api, key: str, variables: dict[str, Any], code: str, field: list[str], message: str
) -> None:
    response = await api.post(QUERY, variables, key=key)

    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": code, "field": field}
    assert error["message"].startswith(message), error["message"]


async def test_a_cursor_of_another_sort_order_is_refused(api: Api, key: str) -> None:
    data = await api.ok(QUERY, {"first": 1}, key=key)
    cursor = data["contacts"]["pageInfo"]["endCursor"]

    body = await api.gql(QUERY, {"first": 1, "after": cursor, "sort": {"field": "LAST_MODIFIED"}}, key=key)

    assert body["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"
    assert "another sort order" in body["errors"][0]["message"]


async def test_operator_and_dotted_keys_in_json_values_are_rejected(api: Api, key: str) -> None:
    for value in ({"$gt": ""}, {"$where": "1"}, {"a.b": 1}):
        body = await api.gql(QUERY, {"where": {"attributes": [{"key": "first_name", "eq": value}]}}, key=key)
        assert "data" not in body, value  # a variable that does not coerce: a request error
        assert "Invalid key" in body["errors"][0]["message"]


async def test_a_bogus_cid_shaped_cursor_id_is_only_a_position(api: Api, key: str) -> None:
    # A cursor forged to point anywhere is still just a position in the caller's own data.
    import base64

    import orjson

    forged = base64.urlsafe_b64encode(
        orjson.dumps(["_id:a", {"o": str(ObjectId())}, str(ObjectId())])
    ).decode()

    data = await api.ok(QUERY, {"after": forged.rstrip("=")}, key=key)

    assert data["contacts"]["totalCount"] == 5


async def test_an_empty_after_is_no_cursor_at_the_root_and_in_nested_connections(api: Api, key: str) -> None:
    without = await api.ok(QUERY, {"first": 2}, key=key)
    empty = await api.ok(QUERY, {"first": 2, "after": ""}, key=key)
    assert empty == without
    assert empty["contacts"]["pageInfo"]["hasPreviousPage"] is False
    nested = await api.ok(
        """{ contacts(first: 2) { edges { node {
             activities(after: "") { pageInfo { hasPreviousPage } }
             orders(after: "") { pageInfo { hasPreviousPage } } } } } }""",
        key=key,
    )
    for edge in nested["contacts"]["edges"]:
        assert edge["node"]["activities"]["pageInfo"]["hasPreviousPage"] is False
        assert edge["node"]["orders"]["pageInfo"]["hasPreviousPage"] is False
