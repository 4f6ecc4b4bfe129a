"""Profile exports and activity reports: jobs, CSV content, authenticated account-scoped downloads."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from bson import ObjectId

from app.activities import repository as activities
from app.auth import ScopeName
from app.commerce import repository as orders
from app.db import ACTIVITY_REPORTS
from app.jobs.runner import JobRunner
from app.tenant import Tenant
from tests.conftest import Api, email_contact

T0 = datetime(2025, 6, 1, tzinfo=UTC)
CREATE = """mutation($input: ActivityReportCreateInput!) { activityReportCreate(input: $input) {
  activityReport { id title status statusCode rowCount aggregatedCsvUrl } job { id state } userErrors { field message code } } }"""
REPORT = """query($id: ID!) { activityReport(id: $id) { id title status statusCode rowCount detailedRowCount
  aggregatedCsvUrl detailedCsvUrl failureReason selectedFields job { state percentDone } } }"""
GMAIL: dict[str, Any] = {
    "title": "Active gmail contacts",
    "selectedFields": ["email", "ocx_status", "opens", "clicks"],
    "filters": {
        "criteria": [
            {
                "type": "email",
                "fieldName": "email",
                "operator": "_LIKE",
                "operand": ["gmail.com"],
                "caseSensitive": False,
                "condition": "and",
            }
        ],
        "userType": "active",
        "fromDate": "2025-06-01T00:00:00Z",
        "toDate": "2025-06-30T23:59:59Z",
    },
}


def person(address: str, status: str = "subscribed", **extra: Any) -> dict[str, Any]:
    doc = email_contact(address, **extra)
    doc["channels"]["email"]["subscribeStatus"] = status
    return doc


@pytest.fixture
async def people(api: Api, key: str) -> dict[str, ObjectId]:
    names = {
        "ann": person("ann@gmail.com", attributes={"age": 30}, lists=["safe-driver"]),
        "bob": person("bob@gmail.com", attributes={"age": 45}),
        "cat": person("cat@gmail.com", "unsubscribed", attributes={"age": 50}),
        "dan": person("dan@yahoo.com", attributes={"age": 61}),
        "eve": person("eve@gmail.com.au", attributes={}),
    }
    cids = dict(zip(names, await api.contacts("acme", *names.values()), strict=True))
    message = ObjectId()

    def event(who: str, action: str, at: timedelta, mc: str | None = None, **extra: Any) -> dict[str, Any]:
        doc = {"cID": cids[who], "action": action, "ats": T0 + at, "properties": extra}
        if mc:
            doc.update(mcID=mc, messageId=message)
        return doc

    await activities.insert_many(Tenant("acme", api.db), [
        event("ann", "message-sent", timedelta(days=1), "m1"),
        event("ann", "open", timedelta(days=1, seconds=60), "m1"),
        event("ann", "open", timedelta(days=1, seconds=600), "m1"),
        event("ann", "click", timedelta(days=1, seconds=90), "m1"),
        event("ann", "message-sent", timedelta(days=2), "m2"),
        event("ann", "open", timedelta(days=2, seconds=120), "m2"),
        event("ann", "browse", timedelta(days=3), page="shirts"),
        event("ann", "open", timedelta(days=-40), "m0"),  # outside the window
        event("bob", "message-sent", timedelta(days=4), "m3"),
        event("cat", "open", timedelta(days=5), "m4"),
    ])  # fmt: skip
    await orders.insert_many(
        Tenant("acme", api.db),
        [{"cID": cids["ann"], "orderID": "A1", "purchaseDate": T0, "totalAmount": 9.5}],
    )
    cids["message"] = message
    return cids


async def create(api: Api, key: str, given: dict[str, Any]) -> dict[str, Any]:
    data = await api.ok(CREATE, {"input": given}, key=key)
    payload: dict[str, Any] = data["activityReportCreate"]
    return payload


async def download(api: Api, key: str | None, url: str) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = await api.http.get(url.replace("http://test", ""), headers=headers)
    return response.status_code, response.text


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


async def run_report(api: Api, key: str, runner: JobRunner, given: dict[str, Any]) -> dict[str, Any]:
    created = await create(api, key, given)
    assert created["userErrors"] == [], created["userErrors"]
    assert (created["activityReport"]["status"], created["activityReport"]["statusCode"]) == ("PENDING", 1)
    await runner.run_once()
    data = await api.ok(REPORT, {"id": created["activityReport"]["id"]}, key=key)
    report: dict[str, Any] = data["activityReport"]
    return report


async def test_reference_active_gmail_contacts(
    api: Api, key: str, runner: JobRunner, people: dict[str, ObjectId]
) -> None:
    report = await run_report(api, key, runner, GMAIL)

    assert (report["status"], report["statusCode"], report["rowCount"], report["job"]["state"]) == (
        "COMPLETED",
        2,
        2,
        "COMPLETED",
    )
    status, text = await download(api, key, report["aggregatedCsvUrl"])
    assert status == 200
    assert rows(text) == [
        ["email", "ocx_status", "opens", "clicks"],
        ["ann@gmail.com", "subscribed", "3", "1"],
        ["bob@gmail.com", "subscribed", "0", "0"],
    ]


async def test_aggregation_fields_and_the_detailed_csv(
    api: Api, key: str, runner: JobRunner, people: dict[str, ObjectId]
) -> None:
    fields = ["id", "email", "sent", "opens", "clicks", "last_sent_date", "last_open_date", "last_click_date",
              "avg_open_time", "avg_click_time", "age"]  # fmt: skip
    given = {**GMAIL, "selectedFields": fields, "includeBehavior": True,
             "filters": {**GMAIL["filters"], "criteria": [{"type": "email", "fieldName": "email", "operator": "=", "operand": ["ann@gmail.com"]}]}}  # fmt: skip

    report = await run_report(api, key, runner, given)
    _, aggregated = await download(api, key, report["aggregatedCsvUrl"])
    _, detailed = await download(api, key, report["detailedCsvUrl"])

    assert rows(aggregated)[1] == [
        str(people["ann"]),
        "ann@gmail.com",
        "2",
        "3",
        "1",
        "2025-06-03T00:00:00.000Z",
        "2025-06-03T00:02:00.000Z",
        "2025-06-02T00:01:30.000Z",
        "90.0",
        "90.0",
        "30",
    ]  # fmt: skip  (opens: first open 60 s and 120 s after their sends)
    detail = rows(detailed)
    assert detail[0] == [
        "contact_id",
        "email",
        "action",
        "ats",
        "mcID",
        "message_id",
        "channel",
        "properties",
    ]
    assert [r[2] for r in detail[1:]] == [
        "message-sent",
        "open",
        "click",
        "open",
        "message-sent",
        "open",
        "browse",
    ]
    assert detail[-1][7] == '{"page":"shirts"}'
    assert report["detailedRowCount"] == 7


@pytest.mark.parametrize(
    ("criteria", "user_type", "expected"),
    [
        (
            [{"type": "numeric", "fieldName": "age", "operator": "><", "operand": [40, 55]}],
            "all",
            ["bob@gmail.com", "cat@gmail.com"],
        ),
        (
            [{"type": "numeric", "fieldName": "age", "operator": ">=", "operand": ["61"]}],
            "all",
            ["dan@yahoo.com"],
        ),
        (
            [{"type": "string", "fieldName": "email", "operator": "LIKE_", "operand": ["ann", "dan"]}],
            "all",
            ["ann@gmail.com", "dan@yahoo.com"],
        ),
        (
            [{"type": "email", "fieldName": "email", "operator": "NOT LIKE", "operand": ["gmail"]}],
            "all",
            ["dan@yahoo.com"],
        ),
        (
            [
                {
                    "type": "email",
                    "fieldName": "email",
                    "operator": "LIKE",
                    "operand": ["GMAIL"],
                    "caseSensitive": True,
                }
            ],
            "all",
            [],
        ),
        ([{"type": "numeric", "fieldName": "age", "operator": "empty"}], "all", ["eve@gmail.com.au"]),
        (
            [{"type": "list", "fieldName": "list", "operator": "=", "operand": ["safe-driver"]}],
            "all",
            ["ann@gmail.com"],
        ),
        (
            [{"type": "behavioral", "fieldName": "opens", "operator": "=", "operand": []}],
            "all",
            ["ann@gmail.com", "cat@gmail.com"],
        ),
        (
            [{"type": "behavioral", "fieldName": "sent", "operator": "!=", "operand": []}],
            "active",
            ["dan@yahoo.com", "eve@gmail.com.au"],
        ),
        (
            [
                {
                    "type": "date",
                    "fieldName": "ocx_created_date",
                    "operator": ">=",
                    "operand": ["2000-01-01"],
                },
                {"type": "numeric", "fieldName": "age", "operator": "<", "operand": [35], "condition": "or"},
            ],
            "unsubscribed",
            ["cat@gmail.com"],
        ),
        (
            [
                {"type": "numeric", "fieldName": "age", "operator": "=", "operand": [30]},
                {"type": "numeric", "fieldName": "age", "operator": "=", "operand": [61], "condition": "or"},
            ],
            "all",
            ["ann@gmail.com", "dan@yahoo.com"],
        ),
    ],
)
async def test_criteria(
    api: Api,
    key: str,
    runner: JobRunner,
    people: dict[str, ObjectId],
    criteria: list[dict[str, Any]],
    user_type: str,
    expected: list[str],
) -> None:
    given = {
        "title": "t",
        "selectedFields": ["email"],
        "filters": {"criteria": criteria, "userType": user_type},
    }

    report = await run_report(api, key, runner, given)
    _, text = await download(api, key, report["aggregatedCsvUrl"])

    assert sorted(r[0] for r in rows(text)[1:]) == sorted(expected)


async def test_invalid_reports_are_user_errors(api: Api, key: str, people: dict[str, ObjectId]) -> None:
    given = {
        "title": "",
        "selectedFields": ["email", "shoe_size"],
        "filters": {"userType": "vip", "criteria": [
            {"type": "numeric", "fieldName": "age", "operator": "LIKE", "operand": [1]},
            {"type": "string", "fieldName": "nope", "operator": "=", "operand": ["x"]},
            {"type": "numeric", "fieldName": "age", "operator": "><", "operand": [1]},
        ]},
    }  # fmt: skip

    payload = await create(api, key, given)

    assert [e["field"][-1] for e in payload["userErrors"]] == ["title", "userType", "1", "0", "1", "2"]
    assert payload["userErrors"][3]["message"].startswith(
        "Criterion 1: operator 'LIKE' does not apply to numeric fields"
    )
    assert await api.db[ACTIVITY_REPORTS].count_documents({}) == 0


async def test_reports_list_delete_and_isolation(
    api: Api, key: str, runner: JobRunner, people: dict[str, ObjectId]
) -> None:
    report = await run_report(api, key, runner, GMAIL)
    other = await api.account("other")
    reader = await api.account("acme", frozenset({ScopeName.CONTACTS_READ}))

    listed = await api.ok("{ activityReports { totalCount edges { node { title status } } } }", key=key)
    assert listed["activityReports"] == {
        "totalCount": 1,
        "edges": [{"node": {"title": "Active gmail contacts", "status": "COMPLETED"}}],
    }
    assert (await download(api, None, report["aggregatedCsvUrl"]))[0] == 401
    assert (await download(api, other, report["aggregatedCsvUrl"]))[0] == 404
    assert (await download(api, reader, report["aggregatedCsvUrl"]))[0] == 403
    assert (await api.ok(REPORT, {"id": report["id"]}, key=other)) == {"activityReport": None}
    assert (await api.ok("{ activityReports { totalCount } }", key=other))["activityReports"][
        "totalCount"
    ] == 0

    deleted = await api.ok(
        "mutation($id: ID!) { activityReportDelete(id: $id) { deletedId userErrors { code } } }",
        {"id": report["id"]},
        key=key,
    )
    assert deleted["activityReportDelete"] == {"deletedId": report["id"], "userErrors": []}
    assert (await download(api, key, report["aggregatedCsvUrl"]))[0] == 404
    assert await api.db["downloads.files"].count_documents({}) == 0


async def test_profile_export_is_a_downloadable_json_of_everything(
    api: Api, key: str, runner: JobRunner, people: dict[str, ObjectId]
) -> None:
    data = await api.ok(
        'mutation { contactProfileExport(ref: "ann@gmail.com") { job { id kind state } userErrors { code } } }',
        key=key,
    )
    job_id = data["contactProfileExport"]["job"]["id"]
    await runner.run_once()
    done = await api.ok(
        "query($id: ID!) { job(id: $id) { state resultUrl counts { personCount } } }", {"id": job_id}, key=key
    )
    url = done["job"]["resultUrl"]

    status, text = await download(api, key, url)
    profile = orjson.loads(text)

    assert done["job"]["state"] == "COMPLETED"
    assert status == 200
    assert profile["cID"] == str(people["ann"])
    assert profile["contact"]["channels"]["email"]["address"] == "ann@gmail.com"
    assert profile["contact"]["lists"] == ["safe-driver"]
    assert [o["orderID"] for o in profile["orders"]] == ["A1"]
    assert len(profile["activities"]) == 8
    assert "accountId" not in text
    assert (await download(api, await api.account("other"), url))[0] == 404
    missing = await api.ok(
        'mutation { contactProfileExport(ref: "nobody@example.com") { userErrors { code } } }', key=key
    )
    assert missing["contactProfileExport"]["userErrors"] == [{"code": "CONTACTS_CONTACT_NOT_FOUND"}]


async def test_a_report_that_cannot_be_computed_is_failed_with_a_reason(
    api: Api, key: str, runner: JobRunner, people: dict[str, ObjectId]
) -> None:
    created = await create(api, key, GMAIL)
    # the criteria went bad after creation (e.g. a list or attribute was removed meanwhile)
    await api.db[ACTIVITY_REPORTS].update_one({}, {"$set": {"filters.criteria.0.type": "nonsense"}})

    await runner.run_once()
    report = (await api.ok(REPORT, {"id": created["activityReport"]["id"]}, key=key))["activityReport"]

    assert (report["status"], report["statusCode"], report["job"]["state"]) == ("FAILED", None, "FAILED")
    assert report["failureReason"].startswith("Criterion 1: type must be one of")
    assert report["aggregatedCsvUrl"] is None


async def test_the_jobs_of_a_page_of_reports_are_read_in_one_command(
    api: Api, key: str, people: dict[str, ObjectId]
) -> None:
    for title in ("one", "two", "three"):
        created = await create(api, key, {**GMAIL, "title": title})
        assert created["userErrors"] == []
    await api.ok("{ account { id } }", key=key)  # the key and the account are cached from here on
    api.commands.reset()

    listed = await api.ok("{ activityReports { edges { node { title job { id state } } } } }", key=key)

    assert [e["node"]["job"]["state"] for e in listed["activityReports"]["edges"]] == ["INITIALIZED"] * 3
    assert api.commands.names.count("find") == 2, api.commands.commands  # the reports, their jobs
