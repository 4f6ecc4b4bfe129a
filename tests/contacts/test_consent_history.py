"""Consent history: every change of a channel's subscribeStatus or invalid flag, by every
write path, in the write itself; as-of reads; merges keep both histories; the export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from app.activities import repository as activities
from app.db import CONTACTS
from app.jobs.handlers import HANDLERS
from app.jobs.runner import JobRunner
from app.tenant import Tenant
from tests.conftest import Api

MCID = "252:65f0c0ffee0000000000a001:ot:1:1"
ENTRY = "at from { subscribeStatus invalid } to { subscribeStatus invalid } source { kind operation jobId apiKey } mcID forced merged mergedFrom"
HISTORY = f"""query($ref: String!, $first: Int, $after: String) {{ contact(ref: $ref) {{ channels {{
  email {{ subscribeStatus history(first: $first, after: $after) {{ totalCount
    pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {ENTRY} }} }} }} }}
  sms {{ history {{ edges {{ node {{ {ENTRY} }} }} }} }}
  push {{ token history {{ edges {{ node {{ {ENTRY} }} }} }} }} }} }} }}"""
CREATE = """mutation($input: ContactInput!) { contactCreate(input: $input) { contact { cID } userErrors { code } } }"""
UPDATE = """mutation($ref: String!, $input: ContactInput!) { contactUpdate(ref: $ref, input: $input) {
  contact { version } userErrors { field code } } }"""
UNSUBSCRIBE = """mutation($ref: String!, $mcID: String) { contactUnsubscribe(ref: $ref, mcID: $mcID) {
  changed userErrors { code } } }"""


def state(status: str, invalid: bool = False) -> dict[str, Any]:
    """As the API shows it."""
    return {"subscribeStatus": status.upper(), "invalid": invalid}


def stored_state(status: str, invalid: bool = False) -> dict[str, Any]:
    return {"subscribeStatus": status, "invalid": invalid}


async def history(api: Api, key: str, ref: str, **paging: Any) -> dict[str, Any]:
    data = await api.ok(HISTORY, {"ref": ref, **paging}, key=key)
    channels: dict[str, Any] = data["contact"]["channels"]
    return channels


def nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["node"] for e in connection["edges"]]


async def create(api: Api, key: str, email: str, **channels: Any) -> str:
    given = {"channels": {"email": {"address": email, "subscribeStatus": "SUBSCRIBED"}, **channels}}
    data = await api.ok(CREATE, {"input": given}, key=key)
    assert data["contactCreate"]["userErrors"] == []
    cid: str = data["contactCreate"]["contact"]["cID"]
    return cid


async def test_every_mutation_appends_what_changed_and_who_changed_it(api: Api, key: str) -> None:
    cid = await create(api, key, "c@example.com", sms={"address": "16195550100"}, push=[{"token": "t1"}])
    await activities.insert_many(
        Tenant("acme", api.db),
        [{"cID": ObjectId(cid), "action": "message-sent", "ats": datetime.now(UTC), "mcID": MCID}],
    )
    ref = "c@example.com"
    no_op = await api.ok(
        UPDATE, {"ref": ref, "input": {"attributes": [{"key": "age", "value": 30}]}}, key=key
    )
    await api.ok(UNSUBSCRIBE, {"ref": ref, "mcID": MCID}, key=key)
    refused = await api.ok(
        UPDATE, {"ref": ref, "input": {"channels": {"email": {"subscribeStatus": "SUBSCRIBED"}}}}, key=key
    )
    await api.ok(
        UPDATE,
        {
            "ref": ref,
            "input": {"forceSubscribe": True, "channels": {"email": {"subscribeStatus": "SUBSCRIBED"}}},
        },
        key=key,
    )
    await api.ok(UPDATE, {"ref": ref, "input": {"channels": {"email": {"invalid": True}}}}, key=key)

    channels = await history(api, key, ref)
    email = nodes(channels["email"]["history"])

    assert no_op["contactUpdate"]["userErrors"] == []
    assert refused["contactUpdate"]["userErrors"][0]["code"] == "CONTACTS_INVALID_SUBSCRIBE_STATUS"
    assert [(e["from"], e["to"]) for e in email] == [
        (None, state("subscribed")),
        (state("subscribed"), state("unsubscribed")),
        (state("unsubscribed"), state("subscribed")),
        (state("subscribed"), state("subscribed", True)),
    ]
    assert [e["source"]["operation"] for e in email] == [
        "contactCreate", "contactUnsubscribe", "contactUpdate", "contactUpdate",
    ]  # fmt: skip
    assert {e["source"]["kind"] for e in email} == {"MUTATION"}
    assert {e["source"]["apiKey"] for e in email} == {"test"}
    assert [e["mcID"] for e in email] == [None, MCID, None, None]
    assert [e["forced"] for e in email] == [False, False, True, False]
    assert channels["email"]["history"]["totalCount"] == 4
    assert [(e["from"], e["to"]) for e in nodes(channels["sms"]["history"])] == [(None, state("none"))]
    assert channels["push"][0]["token"] == "t1"
    assert [(e["from"], e["to"]) for e in nodes(channels["push"][0]["history"])] == [(None, state("none"))]


async def test_as_of_reads_follow_the_history(api: Api, key: str) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    await create(api, key, "asof@example.com")
    await api.ok(UNSUBSCRIBE, {"ref": "asof@example.com"}, key=key)
    email = nodes((await history(api, key, "asof@example.com"))["email"]["history"])
    created_at, unsubscribed_at = email[0]["at"], email[1]["at"]
    query = """query($at: DateTime) { contact(ref: "asof@example.com") { channels { email {
      now: subscribeStatus then: subscribeStatus(at: $at) } } } }"""

    async def status_at(at: str) -> str:
        data = await api.ok(query, {"at": at}, key=key)
        channel = data["contact"]["channels"]["email"]
        assert channel["now"] == "UNSUBSCRIBED"
        value: str = channel["then"]
        return value

    assert await status_at(before.isoformat()) == "NONE"  # no consent on record before it existed
    assert await status_at(created_at) == "SUBSCRIBED"
    assert await status_at(unsubscribed_at) == "UNSUBSCRIBED"
    assert await status_at("2999-01-01T00:00:00Z") == "UNSUBSCRIBED"


async def test_history_pages_oldest_first(api: Api, key: str) -> None:
    await create(api, key, "p@example.com")
    for status in ("UNSUBSCRIBED", "NONE", "SUBSCRIBED", "NONE"):
        given = {"forceSubscribe": True, "channels": {"email": {"subscribeStatus": status}}}
        await api.ok(UPDATE, {"ref": "p@example.com", "input": given}, key=key)

    first = (await history(api, key, "p@example.com", first=2))["email"]["history"]
    rest = (await history(api, key, "p@example.com", first=10, after=first["pageInfo"]["endCursor"]))[
        "email"
    ]["history"]

    assert (first["totalCount"], first["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasNextPage"]) == (
        5,
        True,
        False,
    )
    assert [e["to"]["subscribeStatus"] for e in nodes(first) + nodes(rest)] == [
        "SUBSCRIBED", "UNSUBSCRIBED", "NONE", "SUBSCRIBED", "NONE",
    ]  # fmt: skip


async def test_an_import_records_its_job(api: Api, key: str) -> None:
    runner = JobRunner(api.db, HANDLERS, owner="w")
    data = await api.ok(
        """mutation { contactsImport(input: {csv: "email,subscribeStatus\\nimp@example.com,subscribed\\n"}) {
          job { id } userErrors { code } } }""",
        key=key,
    )
    await runner.run_once()

    [entry] = nodes((await history(api, key, "imp@example.com"))["email"]["history"])

    assert entry["source"] == {
        "kind": "IMPORT", "operation": "contactsImport", "jobId": data["contactsImport"]["job"]["id"], "apiKey": None,
    }  # fmt: skip
    assert entry["to"] == state("subscribed")


async def test_a_merge_keeps_both_histories_the_sources_marked_merged(api: Api, key: str) -> None:
    source = await create(api, key, "src@example.com")
    await api.ok(UNSUBSCRIBE, {"ref": "src@example.com"}, key=key)
    destination = await create(api, key, "dst@example.com")
    options = {"orders": "MERGE", "events": "MERGE", "cart": "DESTINATION_CONTACT", "lists": "DESTINATION_CONTACT",
               "attributes": "DESTINATION_CONTACT", "supplements": "DESTINATION_CONTACT",
               "emailChannels": "SOURCE_CONTACT", "smsChannels": "SOURCE_CONTACT", "pushChannels": "IGNORE"}  # fmt: skip
    merged = await api.ok(
        """mutation($input: ContactMergeInput!) { contactMerge(input: $input) { userErrors { code } } }""",
        {"input": {"sourceContact": source, "destinationContact": destination, "options": options}},
        key=key,
    )

    email = nodes((await history(api, key, destination))["email"]["history"])

    assert merged["contactMerge"]["userErrors"] == []
    assert [(e["merged"], e["mergedFrom"], e["source"]["operation"]) for e in email] == [
        (True, source, "contactCreate"),
        (True, source, "contactUnsubscribe"),
        (False, None, "contactCreate"),
        (False, None, "contactMerge"),
    ]
    assert email[-1]["source"]["kind"] == "MERGE"
    assert (email[-1]["from"], email[-1]["to"]) == (state("subscribed"), state("unsubscribed"))


async def test_the_history_is_in_the_document_the_write_stores_and_in_the_export(api: Api, key: str) -> None:
    cid = await create(api, key, "x@example.com")
    stored = await api.db[CONTACTS].find_one({"_id": ObjectId(cid)})
    profile = await api.exported_profile("x@example.com", key=key)

    assert stored is not None
    assert stored["version"] == 1  # one write: the contact and its history together
    assert [e["to"] for e in stored["consentHistory"]] == [stored_state("subscribed")]
    exported = profile["contact"]["consentHistory"]
    assert [(e["channel"], e["to"]) for e in exported] == [("email", stored_state("subscribed"))]
    assert exported[0]["source"] == {"kind": "mutation", "operation": "contactCreate", "apiKey": "test"}
    assert cid == profile["cID"]
