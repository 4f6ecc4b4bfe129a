"""activities(where, sort, first, after): the reference's query examples and the filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from app.activities import repository
from app.db import MESSAGES
from app.tenant import Tenant
from tests.activities.conftest import Keys
from tests.conftest import Api, email_contact

QUERY = """query($where: ActivityWhere, $sort: ActivitySort, $first: Int, $after: String) {
  activities(where: $where, sort: $sort, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { action ats mcID properties } } } }"""
T0 = datetime(2025, 1, 1, tzinfo=UTC)
MESSAGE = ObjectId()
MCID = f"252:{MESSAGE}:ot:58d30719ac0c8117814da1f3:1"


@pytest.fixture
async def history(api: Api, keys: Keys) -> ObjectId:
    """msmith: 30 browse events, one every 4 hours from 2025-01-01, plus a send, an open and
    a click of one message; another contact: 5 browse events."""
    [other] = await api.contacts("acme", email_contact("other@example.com"))
    docs: list[dict[str, Any]] = [
        {
            "cID": keys.cid,
            "action": "browse",
            "ats": T0 + timedelta(hours=4 * i),
            "properties": {"page": i, "price": i * 1.5},
        }
        for i in range(30)
    ]
    for i, action in enumerate(("message-sent", "open", "click")):
        docs.append(
            {
                "cID": keys.cid,
                "action": action,
                "ats": T0 + timedelta(days=2, minutes=i),
                "mcID": MCID,
                "messageId": MESSAGE,
                "properties": {},
            }
        )
    docs += [
        {"cID": other, "action": "browse", "ats": T0 + timedelta(hours=i), "properties": {}} for i in range(5)
    ]
    await repository.insert_many(Tenant("acme", api.db), docs)
    await api.db[MESSAGES].insert_one(
        {"_id": MESSAGE, "accountId": "acme", "name": "Spring sale", "channel": "email"}
    )
    return other


async def fetch(api: Api, key: str, **variables: Any) -> dict[str, Any]:
    data = await api.ok(QUERY, variables, key=key)
    result: dict[str, Any] = data["activities"]
    return result


async def test_reference_time_between_2025_01_01_and_2025_01_03(
    api: Api, keys: Keys, history: ObjectId
) -> None:
    result = await fetch(
        api, keys.app, where={"ats": {"between": {"start": "2025-01-01", "end": "2025-01-03"}}}, first=100
    )

    # browse 0..12 (48 h), the send at exactly 2025-01-03T00:00 (the end is inclusive), the other's 5
    assert result["totalCount"] == 13 + 1 + 5
    ats = [e["node"]["ats"] for e in result["edges"]]
    assert ats == sorted(ats, reverse=True)
    assert ats[0] == "2025-01-03T00:00:00.000Z"


async def test_reference_time_between_with_action_open(api: Api, keys: Keys, history: ObjectId) -> None:
    result = await fetch(
        api,
        keys.app,
        where={"action": "open", "ats": {"between": {"start": "2025-01-01", "end": "2025-01-03 00:01:00"}}},
    )

    assert [e["node"]["action"] for e in result["edges"]] == ["open"]


async def test_reference_action_browse_with_email(api: Api, keys: Keys, history: ObjectId) -> None:
    result = await fetch(
        api, keys.app, where={"action": "browse", "contact": "email:msmith@example.com"}, first=100
    )
    everyone = await fetch(api, keys.app, where={"action": "browse"}, first=100)

    assert result["totalCount"] == 30
    assert everyone["totalCount"] == 35


async def test_reference_page_3_of_10_as_cursors_and_return_count_as_total(
    api: Api, keys: Keys, history: ObjectId
) -> None:
    where = {"action": "browse", "contact": "msmith@example.com"}
    after = None
    for _ in range(2):  # pages 1 and 2
        page = await fetch(api, keys.app, where=where, first=10, after=after)
        after = page["pageInfo"]["endCursor"]

    third = await fetch(api, keys.app, where=where, first=10, after=after)

    assert third["totalCount"] == 30
    assert [e["node"]["properties"]["page"] for e in third["edges"]] == list(range(9, -1, -1))
    assert third["pageInfo"]["hasNextPage"] is False


async def test_default_page_is_25_sort_ascending_and_ties_by_id(
    api: Api, keys: Keys, history: ObjectId
) -> None:
    same_time = T0 + timedelta(days=30)
    await repository.insert_many(
        Tenant("acme", api.db),
        [{"cID": keys.cid, "action": "tie", "ats": same_time, "properties": {"n": n}} for n in range(4)],
    )

    default = await fetch(api, keys.app)
    ascending = await fetch(
        api, keys.app, sort="ATS_ASC", where={"action": "browse", "contact": "msmith@example.com"}, first=3
    )
    ties = await fetch(api, keys.app, where={"action": "tie"}, first=2)
    rest = await fetch(api, keys.app, where={"action": "tie"}, first=2, after=ties["pageInfo"]["endCursor"])

    assert len(default["edges"]) == 25
    assert [e["node"]["properties"]["page"] for e in ascending["edges"]] == [0, 1, 2]
    assert sorted(e["node"]["properties"]["n"] for e in ties["edges"] + rest["edges"]) == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("where", "count"),
    [
        ({"trackingTypes": ["EM_SENDS", "EM_CLICKS"]}, 2),
        ({"trackingTypes": ["EM_OPENS"], "actions": ["browse"]}, 36),
        ({"actions": ["open", "click"]}, 2),
        ({"mcID": MCID}, 3),
        ({"ats": {"gte": "2025-01-05T00:00:00Z"}}, 6),
        ({"properties": [{"key": "page", "gte": 25}]}, 5),
        ({"properties": [{"key": "page", "in": [1, 2, 99]}]}, 2),
        ({"properties": [{"key": "price", "lt": 3}, {"key": "page", "ne": 0}]}, 1),
        ({"properties": [{"key": "page", "exists": False}], "action": "browse"}, 5),
    ],
)
async def test_filters(api: Api, keys: Keys, history: ObjectId, where: dict[str, Any], count: int) -> None:
    assert (await fetch(api, keys.app, where=where))["totalCount"] == count


async def test_landing_page_tracking_types_name_and_filter_the_pipelines_actions(
    api: Api, keys: Keys
) -> None:
    actions = {
        "pageview": "P_CONTACT_OPEN",
        "page-click": "P_CONTACT_CLICK",
        "page-contact-add": "P_CONTACT_ADD",
        "page-contact-update": "P_CONTACT_UPDATE",
    }
    record = """mutation($input: EventInput!) { eventRecord(input: $input) {
      activity { trackingType } userErrors { code } } }"""
    recorded = [
        (await api.ok(record, {"input": {"contact": "msmith@example.com", "action": a}}, key=keys.system))[
            "eventRecord"
        ]
        for a in [*actions, "browse"]
    ]
    query = """query($types: [TrackingType!]) { activities(where: {trackingTypes: $types}) {
      totalCount edges { node { action trackingType } } } }"""

    assert recorded == [
        {"activity": {"trackingType": t}, "userErrors": []} for t in [*actions.values(), None]
    ]
    for action, kind in actions.items():
        data = (await api.ok(query, {"types": [kind]}, key=keys.app))["activities"]
        assert data == {"totalCount": 1, "edges": [{"node": {"action": action, "trackingType": kind}}]}
    both = (await api.ok(query, {"types": ["P_CONTACT_ADD", "P_CONTACT_UPDATE"]}, key=keys.app))["activities"]
    assert both["totalCount"] == 2


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"first": 10_001}, ["first"]),
        ({"after": "nope"}, ["after"]),
        ({"where": {"contact": "cID:1"}}, ["where", "contact"]),
        ({"where": {"properties": [{"key": "a.b", "eq": 1}]}}, ["where", "properties", "0", "key"]),
        ({"where": {"properties": [{"key": "page", "eq": {"x": 1}}]}}, ["where", "properties", "0", "eq"]),
        ({"where": {"ats": {}}}, ["where", "ats"]),
    ],
)
async def test_bad_arguments_are_named(
    api: Api, keys: Keys, history: ObjectId, variables: dict[str, Any], field: list[str]
) -> None:
    body = await api.gql(QUERY, variables, key=keys.app)

    assert body["errors"][0]["extensions"]["field"] == field


async def test_an_unknown_contact_has_no_activities(api: Api, keys: Keys, history: ObjectId) -> None:
    assert (await fetch(api, keys.app, where={"contact": "nobody@example.com"}))["totalCount"] == 0


async def test_message_names_come_from_one_batched_query_only_when_selected(
    api: Api, keys: Keys, history: ObjectId
) -> None:
    query = """query($m: Boolean!, $mc: String!) { activities(where: {mcID: $mc}) { edges { node { action
      message @include(if: $m) { id name channel } } } } }"""
    await api.ok(query, {"m": False, "mc": MCID}, key=keys.app)
    api.commands.reset()

    without = await api.ok(query, {"m": False, "mc": MCID}, key=keys.app)
    without_commands = list(api.commands.names)
    api.commands.reset()
    with_names = await api.ok(query, {"m": True, "mc": MCID}, key=keys.app)

    assert "message" not in without["activities"]["edges"][0]["node"]
    assert [e["node"]["message"] for e in with_names["activities"]["edges"]] == [
        {"id": str(MESSAGE), "name": "Spring sale", "channel": "email"}
    ] * 3
    assert len(api.commands.names) == len(without_commands) + 1
    assert api.commands.commands[-1][1]["find"] == "messages"


async def test_nested_activities_refuse_a_contact_filter(api: Api, keys: Keys, history: ObjectId) -> None:
    body = await api.gql(
        '{ contact(ref: "msmith@example.com") { activities(where: {contact: "other@example.com"}) { totalCount } } }',
        key=keys.app,
    )

    assert body["errors"][0]["extensions"]["field"] == ["where", "contact"]
