"""activityStream: a lossless, resumable feed of the account's new activities.

Each event carries a ``cursor``: MongoDB's change-stream resume token (an oplog position),
so resuming with ``after`` (``startAfter``) delivers every matching activity recorded
since, in order, then goes on live, with no gap and no duplicate, whichever gateway
replica handed out the cursor and across restarts. Concurrent writers cannot slip an
activity behind a cursor (as they could behind ``_id > x``): the oplog orders commits.

A stream started without ``after`` first sends a checkpoint (an event without activity)
holding the starting position, and a quiet stream sends one every CHECKPOINT_S seconds
when the position moved, so its last cursor stays within the oplog window. A cursor the
oplog no longer holds is ACTIVITY_STREAM_CURSOR_EXPIRED: re-sync (query ``activities``
since the last activity seen) and subscribe again without ``after``; never a silent gap.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncGenerator

import bson
from bson.errors import BSONError

from app.db import Document, ResumeTokenExpired, ResumeTokenInvalid
from app.errors import DomainError, ErrorCode
from app.tenant import Tenant

from . import repository

CHECKPOINT_S = 30.0
_MAX_CURSOR_LENGTH = 1024


def encode_cursor(token: Document) -> str:
    return base64.urlsafe_b64encode(bson.encode(token)).decode().rstrip("=")


def _invalid() -> DomainError:
    return DomainError.one(ErrorCode.INVALID_CURSOR, "'after' is not a cursor of activityStream", ("after",))


def decode_cursor(cursor: str) -> Document:
    if len(cursor) > _MAX_CURSOR_LENGTH:
        raise _invalid()
    try:
        token = bson.decode(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (BSONError, binascii.Error, ValueError, IndexError):
        raise _invalid() from None
    if set(token) != {"_data"} or not isinstance(token["_data"], str):
        raise _invalid()
    return token


async def activity_stream(
    tenant: Tenant, query: Document, after: str | None, checkpoint_s: float = CHECKPOINT_S
) -> AsyncGenerator[tuple[str, Document | None], None]:
    """(cursor, activity) pairs; the activity is None in a checkpoint."""
    start = decode_cursor(after) if after is not None else None
    try:
        async for token, activity in repository.stream_inserted(tenant, query, start, checkpoint_s):
            yield encode_cursor(token), activity
    except ResumeTokenExpired:
        raise DomainError.one(
            ErrorCode.ACTIVITY_STREAM_CURSOR_EXPIRED,
            "The cursor is older than the change history the database keeps: re-sync with "
            "activities(where, sort: ATS_ASC) from the last activity you have, then subscribe "
            "again without 'after'",
            ("after",),
        ) from None
    except ResumeTokenInvalid:
        raise _invalid() from None
