"""The job lifecycle: imports queued, claimed with a lease, progress, cancel, recovery."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from bson import ObjectId
from strawberry.relay import to_base64

from app import process_wide
from app.db import CONTACTS, JOBS
from app.jobs.imports import CHUNK_ROWS
from app.jobs.runner import MAX_ATTEMPTS, JobRunner
from tests.conftest import Api, app_client

IMPORT = """mutation($input: ContactsImportInput!) { contactsImport(input: $input) {
  job { id kind state percentDone sourceFileName } userErrors { field message code } } }"""
JOB = """query($id: ID!) { job(id: $id) { id kind state percentDone errors sourceFileName createdAt startedAt completedAt updatedAt
  counts { itemsTotalCount itemsCompletedCount personCount errorCount correctableCount cannotAddToListCount listCount } } }"""


def contact(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "channels": {"email": {"address": f"c{i}@example.com"}},
        "attributes": [{"key": "points", "value": i}],
        **extra,
    }


async def submit(api: Api, key: str, **given: Any) -> dict[str, Any]:
    data = await api.ok(IMPORT, {"input": given}, key=key)
    payload: dict[str, Any] = data["contactsImport"]
    return payload


async def job(api: Api, key: str, job_id: str) -> dict[str, Any]:
    data = await api.ok(JOB, {"id": job_id}, key=key)
    result: dict[str, Any] = data["job"]
    return result


async def test_an_import_is_queued_run_and_reported(api: Api, key: str, runner: JobRunner) -> None:
    submitted = await submit(
        api, key, contacts=[contact(i) for i in range(3)], sourceFileName="crm.csv", lists=["safe-driver"]
    )
    queued = submitted["job"]
    assert submitted["userErrors"] == []
    assert (queued["kind"], queued["state"], queued["percentDone"], queued["sourceFileName"]) == (
        "CONTACTS_IMPORT",
        "INITIALIZED",
        0,
        "crm.csv",
    )

    assert await runner.run_once() is not None
    done = await job(api, key, queued["id"])

    assert (done["state"], done["percentDone"]) == ("COMPLETED", 100)
    assert done["counts"] == {"itemsTotalCount": 3, "itemsCompletedCount": 3, "personCount": 3, "errorCount": 0,
                              "correctableCount": 0, "cannotAddToListCount": 0, "listCount": 1}  # fmt: skip
    assert done["startedAt"]
    assert done["completedAt"]
    stored = await api.db[CONTACTS].find({"accountId": "acme"}).sort("attributes.points", 1).to_list()
    assert [(c["channels"]["email"]["address"], c["lists"]) for c in stored] == [
        (f"c{i}@example.com", ["safe-driver"]) for i in range(3)
    ]
    listed = await api.ok(
        "{ jobs(where: {kind: CONTACTS_IMPORT, state: COMPLETED}) { totalCount edges { node { id } } } }",
        key=key,
    )
    assert listed["jobs"]["totalCount"] == 1
    assert await runner.run_once() is None


async def test_csv_with_skip_failed_rows_counts_every_outcome(api: Api, key: str, runner: JobRunner) -> None:
    csv = "\n".join([
        "email,first_name,age,fav_fruits,location.city,lists,subscribeStatus",
        "ann@example.com,Ann,31,apple;kiwi,Austin,safe-driver,subscribed",
        "bob@example.com,Bob,old,,,,",                       # wrong type: correctable
        "cat@example.com,Cat,,,,gold,",                       # unknown list: imported without it
        ",Nobody,40,,,,",                                      # no address
        "ann@example.com,Annie,,,,auto-enthusiast,",           # the same contact again: an update
    ])  # fmt: skip

    submitted = await submit(api, key, csv=csv)
    await runner.run_once()
    done = await job(api, key, submitted["job"]["id"])

    assert done["state"] == "COMPLETED"
    assert done["counts"] == {"itemsTotalCount": 5, "itemsCompletedCount": 5, "personCount": 3, "errorCount": 2,
                              "correctableCount": 2, "cannotAddToListCount": 1, "listCount": 2}  # fmt: skip
    assert done["errors"] == [
        "row 2: attributes.1: age: expected a number, got 'old'",
        "row 3: unknown list 'gold'; imported without it",
        "row 4: channels: Address cannot be empty",
    ]
    ann = await api.db[CONTACTS].find_one({"channels.email.address": "ann@example.com", "accountId": "acme"})
    assert ann is not None
    assert ann["attributes"] == {
        "first_name": "Annie",
        "age": 31,
        "fav_fruits": ["apple", "kiwi"],
        "location": {"city": "Austin"},
    }
    assert sorted(ann["lists"]) == ["auto-enthusiast", "safe-driver"]
    assert ann["channels"]["email"]["subscribeStatus"] == "subscribed"


async def test_reject_all_imports_nothing_when_a_row_is_invalid(
    api: Api, key: str, runner: JobRunner
) -> None:
    submitted = await submit(
        api, key, contacts=[contact(1), {"channels": {"email": {"address": "bad"}}}], errorPolicy="REJECT_ALL"
    )

    await runner.run_once()
    done = await job(api, key, submitted["job"]["id"])

    assert done["state"] == "FAILED"
    assert done["counts"]["errorCount"] == 1
    assert done["errors"][0] == "row 2: channels.email.address: Invalid email address 'bad'"
    assert await api.db[CONTACTS].count_documents({}) == 0


async def test_bad_import_requests_are_user_errors(api: Api, key: str) -> None:
    both = await submit(api, key, contacts=[contact(1)], csv="email\na@example.com")
    column = await submit(api, key, csv="email,shoe_size\na@example.com,9")
    list_ = await submit(api, key, contacts=[contact(1)], lists=["gold"])

    assert both["userErrors"][0]["message"] == "Give either contacts or csv"
    assert column["userErrors"][0]["message"] == "Unknown CSV column 'shoe_size'"
    assert list_["userErrors"][0]["message"] == "Unknown list 'gold'"
    assert await api.db[JOBS].count_documents({}) == 0


async def test_progress_is_written_as_it_goes_and_a_running_job_can_be_cancelled(
    api: Api, key: str, runner: JobRunner
) -> None:
    rows = 3 * CHUNK_ROWS  # progress (and a cancel) is noticed once per chunk
    submitted = await submit(api, key, contacts=[contact(i) for i in range(rows)])
    job_id = submitted["job"]["id"]
    task = asyncio.create_task(runner.run_once())
    seen = 0
    for _ in range(400):
        await asyncio.sleep(0.05)
        seen = (await job(api, key, job_id))["percentDone"]
        if seen > 0:
            break
    cancelled = await api.ok(
        "mutation($id: ID!) { jobCancel(id: $id) { job { state } userErrors { code } } }",
        {"id": job_id},
        key=key,
    )
    await task
    done = await job(api, key, job_id)

    assert 0 < seen < 100
    assert cancelled["jobCancel"]["userErrors"] == []
    assert done["state"] == "CANCELLED"
    assert 0 < done["counts"]["itemsCompletedCount"] < rows
    assert await api.db[CONTACTS].count_documents({}) == done["counts"]["personCount"]


async def test_cancelling_a_queued_job_stops_it_at_once(api: Api, key: str, runner: JobRunner) -> None:
    submitted = await submit(api, key, contacts=[contact(1)])

    data = await api.ok(
        "mutation($id: ID!) { jobCancel(id: $id) { job { state completedAt } } }",
        {"id": submitted["job"]["id"]},
        key=key,
    )

    assert data["jobCancel"]["job"]["state"] == "CANCELLED"
    assert await runner.run_once() is None
    assert await api.db[CONTACTS].count_documents({}) == 0


async def test_a_job_whose_worker_died_is_taken_up_again_after_its_lease(
    api: Api, key: str, runner: JobRunner
) -> None:
    submitted = await submit(api, key, contacts=[contact(1)])
    claimed = await process_wide.claim_next_job(api.db, "worker-that-dies", timedelta(milliseconds=200))
    assert claimed is not None
    assert await runner.run_once() is None  # leased to the dead worker
    await asyncio.sleep(0.3)

    assert await runner.run_once() is not None
    done = await api.db[JOBS].find_one({"_id": claimed["_id"]})

    assert done is not None
    assert (done["state"], done["attempts"], done["leaseOwner"]) == ("COMPLETED", 2, "test-worker")
    assert (await job(api, key, submitted["job"]["id"]))["counts"]["personCount"] == 1


async def test_a_job_that_keeps_losing_its_workers_times_out(api: Api, key: str, runner: JobRunner) -> None:
    submitted = await submit(api, key, contacts=[contact(1)])
    for _ in range(MAX_ATTEMPTS):
        assert await process_wide.claim_next_job(api.db, "dying", timedelta(milliseconds=1)) is not None
        await asyncio.sleep(0.01)

    await runner.run_once()
    done = await job(api, key, submitted["job"]["id"])

    assert done["state"] == "TIMED_OUT"
    assert "Gave up after 3 attempts" in done["errors"][-1]


async def test_jobs_are_kept_ten_days(api: Api, key: str) -> None:
    submitted = await submit(api, key, contacts=[contact(1)])
    doc = await api.db[JOBS].find_one({})
    assert doc is not None

    assert doc["expireAt"] - doc["createdAt"] == timedelta(days=10)
    indexes = await api.db[JOBS].index_information()
    assert indexes["ttl_expireAt"]["expireAfterSeconds"] == 0
    assert submitted["job"]["state"] == "INITIALIZED"


async def test_jobs_of_another_account_are_invisible(api: Api, key: str) -> None:
    submitted = await submit(api, key, contacts=[contact(1)])
    other = await api.account("other")

    seen = await api.ok(JOB, {"id": submitted["job"]["id"]}, key=other)
    listed = await api.ok("{ jobs { totalCount } }", key=other)
    cancel = await api.ok(
        "mutation($id: ID!) { jobCancel(id: $id) { userErrors { code } } }",
        {"id": submitted["job"]["id"]},
        key=other,
    )
    node = await api.ok("query($id: ID!) { node(id: $id) { id } }", {"id": submitted["job"]["id"]}, key=other)

    assert seen == {"job": None}
    assert listed == {"jobs": {"totalCount": 0}}
    assert cancel["jobCancel"]["userErrors"] == [{"code": "JOB_NOT_FOUND"}]
    assert node == {"node": None}
    assert (await api.db[JOBS].find_one({}) or {})["state"] == "INITIALIZED"


async def test_the_gateway_runs_jobs_itself_by_default(api: Api, key: str, settings: Any) -> None:
    async with app_client(settings.model_copy(update={"run_jobs": True})) as http:
        response = await http.post(
            "/graphql",
            json={"query": IMPORT, "variables": {"input": {"contacts": [contact(7)]}}},
            headers={"Authorization": f"Bearer {key}"},
        )
        job_id = response.json()["data"]["contactsImport"]["job"]["id"]
        for _ in range(100):
            state = (await job(api, key, job_id))["state"]
            if state == "COMPLETED":
                break
            await asyncio.sleep(0.1)
    assert state == "COMPLETED"
    assert await api.db[CONTACTS].count_documents({"attributes.points": 7}) == 1


def test_global_ids_name_jobs() -> None:
    assert to_base64("Job", str(ObjectId())).startswith("Sm9i")
