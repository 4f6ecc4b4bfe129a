"""messageRecord: the messaging pipeline names its messages (campaigns), so that
``Activity.message { id name }`` resolves for the activities whose mcID carries the id.

A message is upserted by id: recording it again updates its name, channel and send time.
Message ids are ObjectIds (the second segment of an mcID, '252:<message id>:ot:<cID>:1')."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bson import ObjectId

from app.db import Document, DuplicateKey
from app.errors import DomainError, ErrorCode, Problem
from app.tenant import Tenant

from . import repository

MAX_NAME_LENGTH = 200
MAX_CHANNEL_LENGTH = 40


@dataclass(frozen=True, slots=True)
class MessageData:
    id: str
    name: str
    channel: str | None = None
    sent_at: datetime | None = None


def _checked(message: MessageData) -> ObjectId:
    problems: list[Problem] = []
    code = ErrorCode.CONTACT_ACTIVITIES_VALIDATION_ERROR
    if not ObjectId.is_valid(message.id) or not isinstance(message.id, str) or len(message.id) != 24:
        problems.append(
            Problem(
                code, f"Message id {message.id!r} is not a 24-hex ObjectId (as in mcIDs)", ("input", "id")
            )
        )
    if not 1 <= len(message.name.strip()) <= MAX_NAME_LENGTH:
        problems.append(Problem(code, f"name must be 1-{MAX_NAME_LENGTH} characters", ("input", "name")))
    if message.channel is not None and not 1 <= len(message.channel) <= MAX_CHANNEL_LENGTH:
        problems.append(
            Problem(code, f"channel must be 1-{MAX_CHANNEL_LENGTH} characters", ("input", "channel"))
        )
    if problems:
        raise DomainError(problems)
    return ObjectId(message.id)


async def record_message(tenant: Tenant, message: MessageData) -> Document:
    """Create or update the message; the stored document."""
    message_id = _checked(message)
    fields: Document = {"name": message.name.strip()}
    if message.channel is not None:
        fields["channel"] = message.channel
    if message.sent_at is not None:
        fields["sentAt"] = message.sent_at
    try:
        return await repository.upsert_message(tenant, message_id, fields)
    except DuplicateKey:  # the id is another account's message: ids are global ObjectIds
        raise DomainError.one(
            ErrorCode.CONTACT_ACTIVITIES_VALIDATION_ERROR,
            f"Message id {message.id} cannot be used: generate a new ObjectId",
            ("input", "id"),
        ) from None
