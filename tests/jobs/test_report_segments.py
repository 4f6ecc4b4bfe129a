"""Ongage report criteria beyond fields: segments (saved audiences), combined_as_and, and
from/to dates sent as Unix timestamps, as in the reference's own examples."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId

from app.db import ACTIVITY_REPORTS
from app.jobs.runner import JobRunner
from tests.conftest import Api
from tests.jobs.test_exports_and_reports import create, download, people, rows, run_report

__all__ = ["people"]

AUDIENCE = (
    """mutation($input: AudienceCreateInput!) { audienceCreate(input: $input) { userErrors { code } } }"""
)
JUNE_2025 = (1748736000, 1751327999)  # 2025-06-01T00:00:00Z .. 2025-06-30T23:59:59Z


def segment(operator: str, *keys: str, condition: str = "and") -> dict[str, Any]:
    """A segment criterion as the reference writes it."""
    return {
        "fieldName": "segment",
        "type": "segment",
        "operator": operator,
        "operand": list(keys),
        "caseSensitive": False,
        "condition": condition,
    }


@pytest.fixture
async def audiences(api: Api, key: str, people: dict[str, ObjectId]) -> None:
    rules = {
        "over-40": {"attributes": [{"key": "age", "gte": 40}]},
        "safe": {"inLists": ["safe-driver"]},
        "openers": {"activity": {"action": "open"}},
        "gmail-openers": {"emailAddress": "ann@gmail.com", "activity": {"action": "open"}},
    }
    for name, rule in rules.items():
        data = await api.ok(AUDIENCE, {"input": {"key": name, "rule": rule}}, key=key)
        assert data["audienceCreate"]["userErrors"] == []


async def emails(
    api: Api, key: str, runner: JobRunner, criteria: list[dict[str, Any]], **more: Any
) -> list[str]:
    given = {
        "title": "t",
        "selectedFields": ["email"],
        "filters": {"criteria": criteria, "userType": "all", **more.pop("filters", {})},
        **more,
    }
    report = await run_report(api, key, runner, given)
    assert report["status"] == "COMPLETED", report
    _, text = await download(api, key, report["aggregatedCsvUrl"])
    return sorted(r[0] for r in rows(text)[1:])


async def test_the_reference_segment_example_with_timestamps_and_combined_as_and(
    api: Api, key: str, runner: JobRunner, audiences: None
) -> None:
    # "Getting Contact Activity for a Segment for 1 month", dates as Unix timestamps
    given = {
        "title": "Belongs to Segment Id: over-40",
        "includeBehavior": True,
        "filters": {
            "criteria": [segment("=", "over-40")],
            "userType": "all",
            "fromDate": JUNE_2025[0],
            "toDate": JUNE_2025[1],
        },
        "combinedAsAnd": True,
        "selectedFields": ["email", "ocx_created_date", "ocx_status", "sent", "opens", "clicks"],
    }

    report = await run_report(api, key, runner, given)
    _, text = await download(api, key, report["aggregatedCsvUrl"])
    stored = await api.db[ACTIVITY_REPORTS].find_one({})

    assert sorted((r[0], r[3], r[4]) for r in rows(text)[1:]) == [
        ("bob@gmail.com", "1", "0"),
        ("cat@gmail.com", "0", "1"),
        ("dan@yahoo.com", "0", "0"),
    ]
    assert stored is not None
    assert stored["filters"]["fromDate"].isoformat() == "2025-06-01T00:00:00+00:00"
    assert stored["filters"]["toDate"].isoformat() == "2025-06-30T23:59:59+00:00"
    assert stored["filters"]["segments"] == {"over-40": {"attributes": [{"key": "age", "gte": 40}]}}


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        (
            [segment("=", "over-40", "safe")],
            ["ann@gmail.com", "bob@gmail.com", "cat@gmail.com", "dan@yahoo.com"],
        ),
        ([segment("!=", "over-40")], ["ann@gmail.com", "eve@gmail.com.au"]),
        ([segment("!=", "over-40", "safe")], ["eve@gmail.com.au"]),
        ([segment("=", "openers")], ["ann@gmail.com", "cat@gmail.com"]),
        ([segment("!=", "openers")], ["bob@gmail.com", "dan@yahoo.com", "eve@gmail.com.au"]),
        ([segment("=", "gmail-openers")], ["ann@gmail.com"]),
        (
            [
                segment("=", "openers"),
                {"type": "numeric", "fieldName": "age", "operator": ">", "operand": [40]},
            ],
            ["cat@gmail.com"],
        ),
        (
            [
                {"type": "email", "fieldName": "email", "operator": "_LIKE", "operand": ["yahoo.com"]},
                segment("=", "safe", condition="or"),
            ],
            ["ann@gmail.com", "dan@yahoo.com"],
        ),
    ],
)
async def test_segments_select_the_audiences_contacts(
    api: Api,
    key: str,
    runner: JobRunner,
    audiences: None,
    criteria: list[dict[str, Any]],
    expected: list[str],
) -> None:
    assert await emails(api, key, runner, criteria) == expected


async def test_combined_as_and_overrides_each_criterions_condition(
    api: Api, key: str, runner: JobRunner, audiences: None
) -> None:
    criteria = [
        {"type": "email", "fieldName": "email", "operator": "_LIKE", "operand": ["gmail.com"]},
        segment("=", "over-40", condition="or"),
    ]

    either = await emails(api, key, runner, criteria)
    both = await emails(api, key, runner, criteria, combinedAsAnd=True)

    assert either == ["ann@gmail.com", "bob@gmail.com", "cat@gmail.com", "dan@yahoo.com"]
    assert both == ["bob@gmail.com", "cat@gmail.com"]


async def test_iso_strings_and_timestamps_give_the_same_window(
    api: Api, key: str, runner: JobRunner, people: dict[str, ObjectId]
) -> None:
    iso = {"fromDate": "2025-06-01T00:00:00Z", "toDate": "2025-06-30T23:59:59Z"}
    unix = {"fromDate": JUNE_2025[0], "toDate": JUNE_2025[1]}
    fields = {"selectedFields": ["email", "opens"]}

    by_iso = await run_report(api, key, runner, {"title": "a", **fields, "filters": iso})
    by_unix = await run_report(api, key, runner, {"title": "b", **fields, "filters": unix})

    assert by_iso["rowCount"] == by_unix["rowCount"] == 5
    assert (await download(api, key, by_iso["aggregatedCsvUrl"]))[1] == (
        await download(api, key, by_unix["aggregatedCsvUrl"])
    )[1]


async def test_bad_segments_and_timestamps_are_user_errors(api: Api, key: str, audiences: None) -> None:
    given = {
        "title": "t",
        "selectedFields": ["email"],
        "filters": {
            "criteria": [
                segment("=", "nobody"),
                segment("LIKE", "safe"),
                segment("=", "openers", "safe"),
                segment("!=", "gmail-openers"),
            ]
        },
    }
    payload = await create(api, key, given)
    messages = [(e["field"][-1], e["code"], e["message"]) for e in payload["userErrors"]]

    assert messages == [
        ("0", "VALIDATION_ERROR", "Criterion 1: unknown segment 'nobody' (segments are audience keys)"),
        ("1", "VALIDATION_ERROR", "Criterion 2: operator 'LIKE' does not apply to segment fields (=, !=)"),
        (
            "2",
            "VALIDATION_ERROR",
            "Criterion 3: a segment whose audience has an activity condition is given alone",
        ),
        (
            "3",
            "VALIDATION_ERROR",
            "Criterion 4: != applies to audiences with only an activity condition (minCount 1) or none",
        ),
    ]
    joined = await create(
        api,
        key,
        {
            "title": "t",
            "selectedFields": ["email"],
            "filters": {"criteria": [segment("=", "openers"), segment("=", "safe", condition="or")]},
        },
    )
    assert [(e["field"], e["code"]) for e in joined["userErrors"]] == [
        (["input", "filters", "criteria", "1", "condition"], "VALIDATION_ERROR")
    ]
    bad_time = await api.gql(
        CREATE_WITH_DATE,
        {"input": {"title": "t", "selectedFields": ["email"], "filters": {"fromDate": -5}}},
        key=key,
    )
    assert "Invalid timestamp -5: seconds from 1970 to 9999" in bad_time["errors"][0]["message"]
    assert await api.db[ACTIVITY_REPORTS].count_documents({}) == 0


async def test_a_timestamp_written_inline_in_the_query_is_accepted(
    api: Api, key: str, people: dict[str, ObjectId]
) -> None:
    query = """mutation { activityReportCreate(input: {title: "inline", selectedFields: ["email"],
      filters: {fromDate: 1593118800, toDate: "2020-07-27T20:59:59Z"}}) {
        activityReport { filters } userErrors { code } } }"""

    data = await api.ok(query, key=key)

    filters = data["activityReportCreate"]["activityReport"]["filters"]
    assert (filters["fromDate"], filters["toDate"]) == (
        "2020-06-25T21:00:00.000Z",
        "2020-07-27T20:59:59.000Z",
    )


CREATE_WITH_DATE = """mutation($input: ActivityReportCreateInput!) {
  activityReportCreate(input: $input) { userErrors { code } } }"""
