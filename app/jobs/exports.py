"""contactProfileExport: the whole profile of a contact as one JSON file (contact,
attributes, lists, cart, supplements, orders, every activity), downloadable from an
authenticated URL, or uploaded to an FTP/SFTP destination (app.jobs.destinations): the
machine-readable export a data-subject request needs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import orjson
from bson import ObjectId

from app.activities import repository as activities
from app.commerce import repository as orders
from app.contacts import repository as contacts
from app.contacts.refs import IdentifierKeys, find_by_ref
from app.db import Document
from app.errors import DomainError, ErrorCode, Problem
from app.scalars import to_json_value
from app.secrets_box import SealedUnreadable, SecretsBox
from app.tenant import Tenant

from . import repository
from .destinations import (
    DestinationData,
    UploadFailed,
    check_destination,
    location,
    public_part,
    secret_part,
    upload,
)
from .runner import JobContext, JobFailed

KIND = "profile_export"
_HIDDEN = ("accountId", "_id")


async def create_profile_export(
    tenant: Tenant,
    keys: IdentifierKeys,
    ref: str,
    destination: DestinationData | None = None,
    secrets: SecretsBox | None = None,
) -> Document:
    destination = destination or DestinationData()
    problems = check_destination(destination)
    if not problems and destination.uploads and secrets is None:
        problems.append(
            Problem(
                ErrorCode.VALIDATION_ERROR,
                "FTP/SFTP destinations need CONTACTGRAPH_SECRETS_KEY set on this server",
                ("destination", "type"),
            )
        )
    if problems:
        raise DomainError(problems)
    contact = await find_by_ref(tenant, keys, ref)
    if contact is None:
        raise DomainError.one(ErrorCode.CONTACTS_CONTACT_NOT_FOUND, "Contact not found", ("ref",))
    given: Document = {"cID": contact["_id"], "ref": ref, "destination": {"type": destination.type}}
    if destination.uploads:
        assert secrets is not None
        given["destination"] = {**public_part(destination), "sealed": secrets.seal(secret_part(destination))}
    return await repository.insert(tenant, KIND, given, None)


def _public(doc: Document) -> Document:
    return {k: to_json_value(v) for k, v in doc.items() if k not in _HIDDEN}


async def _profile_json(tenant: Tenant, contact: Document) -> AsyncIterator[bytes]:
    cid: ObjectId = contact["_id"]
    head = {
        "exportedAt": to_json_value(datetime.now(UTC)),
        "cID": str(cid),
        "contact": _public(contact),
        "orders": [{"id": str(o["_id"]), **_public(o)} for o in await orders.find_for_contact(tenant, cid)],
    }
    yield orjson.dumps(head)[:-1] + b',"activities":['
    first = True
    async for activity in activities.stream_for_contacts(tenant, [cid]):
        yield (b"" if first else b",") + orjson.dumps({"id": str(activity["_id"]), **_public(activity)})
        first = False
    yield b"]}"


async def run_profile_export(ctx: JobContext) -> Document:
    cid = ctx.job["input"]["cID"]
    contact = await contacts.find_one_by(ctx.tenant, "_id", cid)
    if contact is None:
        raise JobFailed("The contact no longer exists")
    ctx.counts.update(itemsTotalCount=1, itemsCompletedCount=0, personCount=1)
    filename = f"profile-{cid}.json"
    destination = ctx.job["input"].get("destination") or {}
    if destination.get("type") in ("ftp", "sftp"):
        try:
            size = await upload(
                destination,
                _opened(ctx, destination),
                filename,
                _profile_json(ctx.tenant, contact),
            )
        except UploadFailed as exc:
            raise JobFailed(str(exc)) from None
        finally:  # the credentials are needed no longer: the job keeps no copy, even sealed
            await repository.forget_sealed(ctx.tenant, ctx.job["_id"])
        ctx.counts["itemsCompletedCount"] = 1
        return {"destination": location(destination, filename), "size": size, "filename": filename}
    file_id, size = await repository.store_file(
        ctx.tenant,
        filename,
        "application/json",
        _profile_json(ctx.tenant, contact),
    )
    ctx.counts["itemsCompletedCount"] = 1
    return {"fileId": file_id, "size": size, "filename": filename}


def _opened(ctx: JobContext, destination: Document) -> Document:
    if ctx.secrets is None:
        raise JobFailed("This worker has no CONTACTGRAPH_SECRETS_KEY to open the destination's credentials")
    try:
        return ctx.secrets.open(destination.get("sealed") or "")
    except SealedUnreadable:
        raise JobFailed(
            "The destination's credentials were sealed with another CONTACTGRAPH_SECRETS_KEY "
            "(or were already used): export again"
        ) from None
