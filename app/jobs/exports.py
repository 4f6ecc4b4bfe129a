"""contactProfileExport: the whole profile of a contact as one JSON file (contact,
attributes, lists, cart, supplements, orders, every activity), downloadable from an
authenticated URL: the machine-readable export a data-subject request needs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import orjson
from bson import ObjectId

from app.activities import repository as activities
from app.commerce import repository as orders
from app.contacts import repository as contacts
from app.contacts.refs import IdentifierKeys, find_by_ref
from app.db import Database, Document
from app.errors import DomainError, ErrorCode
from app.scalars import to_json_value

from . import repository
from .runner import JobContext, JobFailed

KIND = "profile_export"
_HIDDEN = ("accountId", "_id")


async def create_profile_export(account_id: str, db: Database, keys: IdentifierKeys, ref: str) -> Document:
    contact = await find_by_ref(account_id, db, keys, ref)
    if contact is None:
        raise DomainError.one(ErrorCode.CONTACTS_CONTACT_NOT_FOUND, "Contact not found", ("ref",))
    return await repository.insert(account_id, db, KIND, {"cID": contact["_id"], "ref": ref}, None)


def _public(doc: Document) -> Document:
    return {k: to_json_value(v) for k, v in doc.items() if k not in _HIDDEN}


async def _profile_json(account_id: str, db: Database, contact: Document) -> AsyncIterator[bytes]:
    cid: ObjectId = contact["_id"]
    head = {
        "exportedAt": to_json_value(datetime.now(UTC)),
        "cID": str(cid),
        "contact": _public(contact),
        "orders": [
            {"id": str(o["_id"]), **_public(o)} for o in await orders.find_for_contact(account_id, db, cid)
        ],
    }
    yield orjson.dumps(head)[:-1] + b',"activities":['
    first = True
    async for activity in activities.stream_for_contacts(account_id, db, [cid]):
        yield (b"" if first else b",") + orjson.dumps({"id": str(activity["_id"]), **_public(activity)})
        first = False
    yield b"]}"


async def run_profile_export(ctx: JobContext) -> Document:
    cid = ctx.job["input"]["cID"]
    contact = await contacts.find_one_by(ctx.account_id, ctx.db, "_id", cid)
    if contact is None:
        raise JobFailed("The contact no longer exists")
    ctx.counts.update(itemsTotalCount=1, itemsCompletedCount=0, personCount=1)
    file_id, size = await repository.store_file(
        ctx.account_id,
        ctx.db,
        f"profile-{cid}.json",
        "application/json",
        _profile_json(ctx.account_id, ctx.db, contact),
    )
    ctx.counts["itemsCompletedCount"] = 1
    return {"fileId": file_id, "size": size, "filename": f"profile-{cid}.json"}
