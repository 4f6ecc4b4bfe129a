"""contactUnsubscribe: status, time, mcID attribution, one optout activity."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bson import ObjectId

from app.activities import repository as activities
from app.db import ACTIVITIES, CONTACTS
from app.tenant import Tenant
from tests.conftest import Api, FailPoint, email_contact

MCID = "252:58ffed51f0c36063476c1752:ot:58d30719ac0c8117814da1f3:1"
UNSUBSCRIBE = """mutation($ref: String!, $channel: String!, $mcID: String) {
  contactUnsubscribe(ref: $ref, channel: $channel, mcID: $mcID) {
    changed contact { channels { email { subscribeStatus unsubscribedAt unsubscribeMcID } } }
    userErrors { field message code } } }"""


@pytest.fixture
async def msmith(api: Api, key: str) -> ObjectId:
    doc = email_contact("msmith@example.com")
    doc["channels"]["email"]["subscribeStatus"] = "subscribed"
    [cid] = await api.contacts("acme", doc)
    await activities.insert_many(
        Tenant("acme", api.db),
        [{"cID": cid, "action": "message-sent", "ats": datetime.now(UTC), "mcID": MCID}],
    )
    return cid


async def optouts(api: Api, cid: ObjectId) -> list[dict[str, object]]:
    return await api.db[ACTIVITIES].find({"cID": cid, "action": "optout"}).to_list()


async def test_reference_unsubscribe_with_mcid(api: Api, key: str, msmith: ObjectId) -> None:
    data = await api.ok(
        UNSUBSCRIBE, {"ref": "email:msmith@example.com", "channel": "email", "mcID": MCID}, key=key
    )

    payload = data["contactUnsubscribe"]
    assert payload["userErrors"] == []
    assert payload["changed"] is True
    email = payload["contact"]["channels"]["email"]
    assert email["subscribeStatus"] == "UNSUBSCRIBED"
    assert email["unsubscribeMcID"] == MCID
    assert email["unsubscribedAt"] is not None
    doc = await api.db[CONTACTS].find_one({"_id": msmith})
    assert doc is not None
    assert doc["channels"]["email"]["subscribeStatus"] == "unsubscribed"
    assert doc["channels"]["email"]["unsubscribeMcID"] == MCID
    [optout] = await optouts(api, msmith)
    assert (optout["mcID"], optout["channel"], optout["accountId"]) == (MCID, "email", "acme")
    assert optout["ats"] == doc["channels"]["email"]["unsubscribedAt"]


async def test_a_second_unsubscribe_changes_nothing_and_records_no_second_optout(
    api: Api, key: str, msmith: ObjectId
) -> None:
    await api.ok(UNSUBSCRIBE, {"ref": "msmith@example.com", "channel": "email"}, key=key)
    before = await api.db[CONTACTS].find_one({"_id": msmith})

    data = await api.ok(UNSUBSCRIBE, {"ref": "msmith@example.com", "channel": "email"}, key=key)

    assert data["contactUnsubscribe"]["changed"] is False
    assert await api.db[CONTACTS].find_one({"_id": msmith}) == before
    assert len(await optouts(api, msmith)) == 1


async def test_an_mcid_no_activity_of_this_contact_carries_is_refused(
    api: Api, key: str, msmith: ObjectId
) -> None:
    [other] = await api.contacts("acme", email_contact("other@example.com"))
    await activities.insert_many(
        Tenant("acme", api.db),
        [{"cID": other, "action": "message-sent", "ats": datetime.now(UTC), "mcID": "theirs"}],
    )

    data = await api.ok(
        UNSUBSCRIBE, {"ref": "msmith@example.com", "channel": "email", "mcID": "theirs"}, key=key
    )

    assert data["contactUnsubscribe"]["userErrors"] == [
        {
            "field": ["mcID"],
            "message": "mcID doesn't belong to this contact",
            "code": "CONTACTS_INVALID_MCID_FOR_THIS_CONTACT",
        }
    ]
    assert await optouts(api, msmith) == []


@pytest.mark.parametrize("channel", ["fax", "sms", "push"])
async def test_an_unknown_or_absent_channel_is_channel_key_not_found(
    api: Api, key: str, msmith: ObjectId, channel: str
) -> None:
    data = await api.ok(UNSUBSCRIBE, {"ref": "msmith@example.com", "channel": channel}, key=key)

    [error] = data["contactUnsubscribe"]["userErrors"]
    assert (error["code"], error["message"]) == (
        "CONTACTS_CHANNEL_KEY_NOT_FOUND",
        f"Channel {channel} not found",
    )


async def test_a_fault_recording_the_optout_leaves_the_contact_subscribed(
    api: Api, key: str, msmith: ObjectId, failpoint: FailPoint
) -> None:
    await failpoint.fail(["insert"])

    body = await api.gql(UNSUBSCRIBE, {"ref": "msmith@example.com", "channel": "email"}, key=key)

    await failpoint.off()
    assert body["errors"]
    doc = await api.db[CONTACTS].find_one({"_id": msmith})
    assert doc is not None
    assert doc["channels"]["email"]["subscribeStatus"] == "subscribed"
    assert await optouts(api, msmith) == []
