"""Contacts filtered by their activities (and audiences saved with such rules), evaluated
inside the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from app.account.audiences import create_audience
from app.activities import repository as activities
from app.tenant import Tenant
from tests.conftest import Api, email_contact

QUERY = """query($where: ContactWhere, $audience: String, $first: Int, $after: String) {
  contacts(where: $where, audience: $audience, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { email } } } }"""


@pytest.fixture
async def people(api: Api, key: str) -> dict[str, ObjectId]:
    """ann clicked 5 and 10 days ago, bob 40 days ago, cat only browsed, dan did nothing;
    another account logged a click against dan's cID."""
    names = ["ann", "bob", "cat", "dan"]
    cids = dict(
        zip(
            names,
            await api.contacts(
                "acme",
                *[
                    email_contact(f"{n}@example.com", attributes={"age": 20 + i * 10})
                    for i, n in enumerate(names)
                ],
            ),
            strict=True,
        )
    )
    now = datetime.now(UTC)

    def event(who: str, action: str, days: int) -> dict[str, Any]:
        return {"cID": cids[who], "action": action, "ats": now - timedelta(days=days), "properties": {}}

    await activities.insert_many(
        Tenant("acme", api.db),
        [
            event("ann", "click", 5),
            event("ann", "click", 10),
            event("bob", "click", 40),
            event("cat", "browse", 1),
        ],
    )
    await activities.insert_many(Tenant("other", api.db), [event("dan", "click", 1)])
    return cids


async def emails(api: Api, key: str, **variables: Any) -> tuple[int, list[str]]:
    data = await api.ok(QUERY, variables, key=key)
    return data["contacts"]["totalCount"], [
        e["node"]["email"].split("@")[0] for e in data["contacts"]["edges"]
    ]


@pytest.mark.parametrize(
    ("activity", "expected"),
    [
        ({"action": "click", "withinDays": 30}, ["ann"]),
        ({"action": "click"}, ["ann", "bob"]),
        ({"trackingTypes": ["EM_CLICKS"], "withinDays": 60, "minCount": 2}, ["ann"]),
        ({"actions": ["click", "browse"], "withinDays": 30}, ["ann", "cat"]),
        ({"action": "click", "withinDays": 30, "exists": False}, ["bob", "cat", "dan"]),
        ({"ats": {"lt": "2000-01-01T00:00:00Z"}}, []),
    ],
)
async def test_activity_conditions(
    api: Api, key: str, people: dict[str, ObjectId], activity: dict[str, Any], expected: list[str]
) -> None:
    total, found = await emails(api, key, where={"activity": activity})

    assert found == expected
    assert total == len(expected)


async def test_another_accounts_activity_never_counts(
    api: Api, key: str, people: dict[str, ObjectId]
) -> None:
    _, found = await emails(api, key, where={"activity": {"action": "click", "withinDays": 3}})

    assert found == []


async def test_a_saved_audience_with_an_activity_rule_combines_with_where_and_pages(
    api: Api, key: str, people: dict[str, ObjectId]
) -> None:
    await create_audience(
        Tenant("acme", api.db),
        "engaged",
        "Engaged",
        {"activity": {"actions": ["click", "browse"], "withinDays": 30}},
    )

    assert await emails(api, key, audience="engaged") == (2, ["ann", "cat"])
    assert await emails(api, key, audience="engaged", where={"attributes": [{"key": "age", "gt": 25}]}) == (
        1,
        ["cat"],
    )
    first = await api.ok(QUERY, {"audience": "engaged", "first": 1}, key=key)
    after = first["contacts"]["pageInfo"]["endCursor"]
    assert await emails(api, key, audience="engaged", first=1, after=after) == (2, ["cat"])


async def test_it_is_one_aggregation_driven_by_the_matching_activities(
    api: Api, key: str, people: dict[str, ObjectId]
) -> None:
    await create_audience(Tenant("acme", api.db), "clickers", None, {"activity": {"action": "click"}})
    await api.ok("{ account { id } }", key=key)
    api.commands.reset()

    await emails(api, key, audience="clickers")

    names = [f"{name}:{cmd[name]}" for name, cmd in api.commands.commands]
    assert names == [
        "find:attributeDefinitions",
        "find:lists",
        "find:audiences",
        "aggregate:activities",  # the page
        "aggregate:activities",  # totalCount
    ]
    pipeline = api.commands.commands[-2][1]["pipeline"]
    # The clicks are found through an index and grouped by contact; only those contacts are read.
    assert pipeline[0] == {"$match": {"action": "click", "accountId": "acme"}}
    assert pipeline[1]["$group"]["_id"] == "$cID"
    assert pipeline[2]["$lookup"] == {
        "from": "contacts",
        "localField": "_id",
        "foreignField": "_id",
        "as": "__activity",
        "pipeline": [{"$match": {"accountId": "acme"}}],  # the join stays inside the account
    }


async def test_bad_activity_conditions_are_named(api: Api, key: str, people: dict[str, ObjectId]) -> None:
    for activity, field in (
        ({"action": "click", "minCount": 0}, ["where", "activity", "minCount"]),
        ({"action": "click", "withinDays": 0}, ["where", "activity", "withinDays"]),
        ({"action": "click", "exists": False, "minCount": 3}, ["where", "activity", "minCount"]),
    ):
        body = await api.gql(QUERY, {"where": {"activity": activity}}, key=key)
        assert body["errors"][0]["extensions"]["field"] == field, activity
