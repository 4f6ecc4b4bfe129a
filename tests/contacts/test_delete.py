"""contactDelete: the contact and everything linked to it, in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bson import ObjectId

from app.activities import repository as activities
from app.commerce import repository as orders
from app.db import ACTIVITIES, CONTACT_ALIASES, CONTACTS, ORDERS
from app.tenant import Tenant
from tests.conftest import Api, FailPoint, email_contact

DELETE = """mutation($ref: String!) { contactDelete(ref: $ref) {
  deletedCID activitiesDeleted ordersDeleted cartDeleted userErrors { field message code } } }"""


@pytest.fixture
async def two(api: Api, key: str) -> tuple[ObjectId, ObjectId]:
    gone, kept = await api.contacts(
        "acme",
        email_contact(
            "gone@example.com", cart={"items": [{"productID": "P", "qty": 1}]}, supplements={"x": 1}
        ),
        email_contact("kept@example.com"),
    )
    now = datetime.now(UTC)
    for cid, n in ((gone, 3), (kept, 2)):
        await activities.insert_many(
            Tenant("acme", api.db), [{"cID": cid, "action": "browse", "ats": now} for _ in range(n)]
        )
        await orders.insert_many(
            Tenant("acme", api.db),
            [{"cID": cid, "orderID": f"{cid}-{i}", "purchaseDate": now} for i in range(n)],
        )
    await api.db[CONTACT_ALIASES].insert_one({"accountId": "acme", "cID": ObjectId(), "survivor": gone})
    return gone, kept


async def counts(api: Api, cid: ObjectId) -> tuple[int, int, int]:
    return (
        await api.db[CONTACTS].count_documents({"_id": cid}),
        await api.db[ACTIVITIES].count_documents({"cID": cid}),
        await api.db[ORDERS].count_documents({"cID": cid}),
    )


async def test_delete_erases_the_contact_and_everything_linked_and_reports_it(
    api: Api, key: str, two: tuple[ObjectId, ObjectId]
) -> None:
    gone, kept = two

    data = await api.ok(DELETE, {"ref": "gone@example.com"}, key=key)

    assert data["contactDelete"] == {
        "deletedCID": str(gone),
        "activitiesDeleted": 3,
        "ordersDeleted": 3,
        "cartDeleted": True,
        "userErrors": [],
    }
    assert await counts(api, gone) == (0, 0, 0)
    assert await api.db[CONTACT_ALIASES].count_documents({"survivor": gone}) == 0
    assert await counts(api, kept) == (1, 2, 2)
    assert (await api.ok(f'{{ contact(ref: "{gone}") {{ cID }} }}', key=key)) == {"contact": None}


async def test_deleting_an_unknown_contact_is_not_found(
    api: Api, key: str, two: tuple[ObjectId, ObjectId]
) -> None:
    data = await api.ok(DELETE, {"ref": "nobody@example.com"}, key=key)

    assert data["contactDelete"]["userErrors"][0]["code"] == "CONTACTS_CONTACT_NOT_FOUND"


async def test_a_fault_in_the_last_step_leaves_everything_as_it_was(
    api: Api, key: str, two: tuple[ObjectId, ObjectId], failpoint: FailPoint
) -> None:
    gone, _ = two
    await failpoint.fail(["delete"], skip=3)  # activities, orders, aliases pass; the contact's delete fails

    body = await api.gql(DELETE, {"ref": "gone@example.com"}, key=key)

    assert body["data"] is None
    assert body["errors"]
    await failpoint.off()
    assert await counts(api, gone) == (1, 3, 3)
    assert await api.db[CONTACT_ALIASES].count_documents({"survivor": gone}) == 1


async def test_a_transient_fault_is_retried_and_the_delete_completes(
    api: Api, key: str, two: tuple[ObjectId, ObjectId], failpoint: FailPoint
) -> None:
    gone, _ = two
    # the first delete of the transaction fails once, as a transient error; the retry succeeds
    await failpoint.fail(["delete"], times=1, errorLabels=["TransientTransactionError"])

    data = await api.ok(DELETE, {"ref": "gone@example.com"}, key=key)

    assert data["contactDelete"]["deletedCID"] == str(gone)
    assert await counts(api, gone) == (0, 0, 0)
