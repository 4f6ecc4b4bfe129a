"""Imports in chunks: one bulk insert for the new contacts of a chunk, lookups and one bulk
write only for the rows whose contact exists, progress as a checkpoint, and a stopping
worker handing its job back."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bson import ObjectId

from app.account.config import load_account_config
from app.contacts import repository as contacts_repository
from app.contacts.attributes import AttributeChange
from app.contacts.bulk import upsert_many
from app.contacts.channels import AddressChannelChange, ChannelChanges
from app.contacts.writes import ContactWrite
from app.db import CONTACTS, JOBS
from app.jobs.handlers import HANDLERS
from app.jobs.imports import CHUNK_ROWS
from app.jobs.runner import JobRunner
from app.tenant import Tenant
from tests.conftest import Api, email_contact
from tests.jobs.test_jobs import contact, job, submit


def write(address: str, points: float | None = None, *, inc: float | None = None) -> ContactWrite:
    change = AttributeChange("points", value=points) if inc is None else AttributeChange("points", inc=inc)
    return ContactWrite(ChannelChanges(email=AddressChannelChange(address, None, None)), (change,))


async def test_new_contacts_cost_one_bulk_insert_per_chunk_and_no_lookup(
    api: Api, key: str, runner: JobRunner
) -> None:
    rows = 2 * CHUNK_ROWS
    submitted = await submit(api, key, contacts=[contact(i) for i in range(rows)])
    api.commands.reset()

    await runner.run_once()

    on_contacts = [name for name, cmd in api.commands.commands if cmd.get(name) == CONTACTS]
    assert on_contacts == ["insert", "insert"]  # one bulk insert per chunk, no contact looked up
    assert await api.db[CONTACTS].count_documents({"accountId": "acme"}) == rows
    done = await job(api, key, submitted["job"]["id"])
    assert (done["state"], done["counts"]["personCount"]) == ("COMPLETED", rows)


async def test_existing_contacts_are_updated_with_one_bulk_write_per_chunk(
    api: Api, key: str, runner: JobRunner
) -> None:
    await api.contacts("acme", *(email_contact(f"c{i}@example.com") for i in range(CHUNK_ROWS)))
    submitted = await submit(api, key, contacts=[contact(i) for i in range(CHUNK_ROWS)])
    api.commands.reset()

    await runner.run_once()

    updates = [
        cmd for name, cmd in api.commands.commands if name == "update" and cmd.get("update") == CONTACTS
    ]
    assert len(updates) == 1
    assert len(updates[0]["updates"]) == CHUNK_ROWS
    done = await job(api, key, submitted["job"]["id"])
    assert done["counts"]["personCount"] == CHUNK_ROWS
    stored = await api.db[CONTACTS].find({"accountId": "acme"}, {"attributes.points": 1}).to_list()
    assert sorted(d["attributes"]["points"] for d in stored) == list(range(CHUNK_ROWS))


async def test_rows_of_one_chunk_apply_in_order_and_new_ones_see_earlier_ones(api: Api, key: str) -> None:
    config = await load_account_config(
        Tenant("acme", api.db),
    )
    (existing,) = await api.contacts("acme", email_contact("old@example.com", attributes={"points": 1}))

    results = await upsert_many(
        Tenant("acme", api.db),
        config,
        [
            write("new@example.com", 10),
            write("old@example.com", inc=5),
            write("new@example.com", inc=1),  # the contact the first row creates
            write("old@example.com", inc=5),
        ],
    )

    assert [(r.created, r.problems) for r in results] == [(True, []), (False, []), (False, []), (False, [])]
    old = await api.db[CONTACTS].find_one({"_id": existing, "accountId": "acme"})
    new = await api.db[CONTACTS].find_one({"channels.email.address": "new@example.com", "accountId": "acme"})
    assert old is not None
    assert new is not None
    assert old["attributes"]["points"] == 11
    assert new["attributes"]["points"] == 11
    assert await api.db[CONTACTS].count_documents({"accountId": "acme"}) == 2


async def test_a_contact_changed_meanwhile_is_done_again_on_its_own(api: Api, key: str) -> None:
    (cid,) = await api.contacts("acme", email_contact("a@example.com", attributes={"points": 1}))
    read = await api.db[CONTACTS].find_one({"_id": cid, "accountId": "acme"})
    assert read is not None
    # Another writer moves the contact to version 2 after it was read at version 1.
    await api.db[CONTACTS].update_one({"_id": cid, "accountId": "acme"}, {"$set": {"version": 2}})

    failed_inserts, failed_replaces = await contacts_repository.bulk_store(
        Tenant("acme", api.db), [], [({**read, "attributes": {"points": 99}}, 1)]
    )

    assert (failed_inserts, failed_replaces) == ([], [0])
    stored = await api.db[CONTACTS].find_one({"_id": cid, "accountId": "acme"})
    assert stored is not None
    assert stored["attributes"]["points"] == 1  # nothing was overwritten


async def test_bulk_store_tells_which_replaces_landed_when_some_did_not(api: Api, key: str) -> None:
    ids = await api.contacts("acme", *(email_contact(f"r{i}@example.com") for i in range(4)))
    docs = [await api.db[CONTACTS].find_one({"_id": i, "accountId": "acme"}) for i in ids]
    await api.db[CONTACTS].update_one({"_id": ids[2], "accountId": "acme"}, {"$set": {"version": 7}})
    taken = {"channels": {"email": {"address": "r0@example.com"}}}  # a duplicate email

    failed_inserts, failed_replaces = await contacts_repository.bulk_store(
        Tenant("acme", api.db),
        [{"_id": ObjectId(), **taken, "attributes": {}, "lists": [], "version": 1}],
        [({**d, "attributes": {"points": 5}}, 1) for d in docs if d is not None],
    )

    assert failed_inserts == [0]
    assert failed_replaces == [2]
    points = {
        d["_id"]: d["attributes"].get("points")
        async for d in api.db[CONTACTS].find({"accountId": "acme", "_id": {"$in": ids}})
    }
    assert [points[i] for i in ids] == [5, 5, None, 5]


async def test_a_stopping_worker_hands_its_import_back_and_another_goes_on(api: Api, key: str) -> None:
    rows = 3 * CHUNK_ROWS
    submitted = await submit(api, key, contacts=[contact(i) for i in range(rows)])
    first = JobRunner(api.db, HANDLERS, lease=timedelta(seconds=60), owner="first")
    second = JobRunner(api.db, HANDLERS, lease=timedelta(seconds=60), owner="second")

    running = asyncio.create_task(first.run_once())
    for _ in range(400):  # until the first chunk is done
        await asyncio.sleep(0.02)
        stored = await api.db[JOBS].find_one({"accountId": "acme"})
        if stored is not None and (stored.get("checkpoint") or {}).get("next"):
            break
    first.stop()
    await asyncio.wait_for(running, 10)
    handed_back = await api.db[JOBS].find_one({"accountId": "acme"})
    assert handed_back is not None
    assert handed_back["state"] == "PROCESSING"
    assert handed_back["leaseOwner"] is None
    assert handed_back["attempts"] == 0  # the handed-back claim does not count
    assert 0 < handed_back["checkpoint"]["next"] < rows

    await second.run_once()

    done = await job(api, key, submitted["job"]["id"])
    assert done["state"] == "COMPLETED"
    assert done["counts"]["personCount"] == rows
    assert done["counts"]["itemsCompletedCount"] == rows
    assert await api.db[CONTACTS].count_documents({"accountId": "acme"}) == rows
