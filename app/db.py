"""The MongoDB client's lifecycle, collection names and every index (TTL included).

The client is PyMongo's ``AsyncMongoClient``. Application code reaches collections
only through the domain ``repository.py`` modules, and they only through a ``Tenant``
(``app.tenant``), which scopes every filter to an account.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure
from pymongo.monitoring import CommandListener

from app.settings import Settings

Document = dict[str, Any]
Database = AsyncDatabase[Document]
Collection = AsyncCollection[Document]
Client = AsyncMongoClient[Document]
Session = AsyncClientSession
T = TypeVar("T")
P = ParamSpec("P")

ACCOUNTS = "accounts"
API_KEYS = "apiKeys"
ATTRIBUTE_DEFINITIONS = "attributeDefinitions"
LISTS = "lists"
AUDIENCES = "audiences"
CONTACTS = "contacts"
CONTACT_ALIASES = "contactAliases"
ACTIVITIES = "activities"
EVENT_PROPERTIES = "eventProperties"
MESSAGES = "messages"
ORDERS = "orders"
JOBS = "jobs"
RATE_LIMITS = "rateLimits"
ACTIVITY_REPORTS = "activityReports"

# Commands the driver sends on its own (monitoring, sessions, auth), not on the app's
# behalf: command counts (tests, the bench) leave them out.
DRIVER_COMMANDS = frozenset(
    {"hello", "ismaster", "isMaster", "ping", "endSessions", "killCursors", "saslStart", "saslContinue"}
)


@dataclass
class TimeLimits:
    """The ``maxTimeMS`` every read carries, so that no query runs unbounded on the server:
    ``request`` for what a GraphQL request or download runs, ``job`` for a job's bulk scans.
    Set from the settings by ``connect``; one process serves one configuration."""

    request: int = 15_000
    job: int = 600_000


MAX_TIME = TimeLimits()


class DuplicateKey(Exception):
    """A write collided with a unique index. ``fields`` are the index's keys without
    ``accountId`` (e.g. ``("channels.email.address",)``): the use case says which
    identifier is taken. Repositories raise it instead of the driver's DuplicateKeyError."""

    def __init__(self, fields: tuple[str, ...]) -> None:
        super().__init__(f"duplicate key on {', '.join(fields) or 'a unique index'}")
        self.fields = fields

    @classmethod
    def of(cls, exc: DuplicateKeyError) -> DuplicateKey:
        pattern = (exc.details or {}).get("keyPattern") or {}
        return cls(tuple(f for f in pattern if f != "accountId"))


def raises_duplicate_key(write: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """A repository write whose unique-index collision reaches its caller as DuplicateKey."""

    @wraps(write)
    async def translated(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await write(*args, **kwargs)
        except DuplicateKeyError as exc:
            raise DuplicateKey.of(exc) from exc

    return translated


async def transaction(client: Client, work: Callable[[Session], Awaitable[T]]) -> T:
    """Run ``work(session)`` as one multi-document transaction: all of its writes land or
    none does (the driver retries it on transient errors and unknown commit results). Pass
    the session to every repository call inside. A unique-index collision inside surfaces
    as DuplicateKey."""
    try:
        async with client.start_session() as session:
            return await session.with_transaction(work)
    except DuplicateKeyError as exc:
        raise DuplicateKey.of(exc) from exc


def connect(settings: Settings, listeners: Sequence[CommandListener] = ()) -> AsyncMongoClient[Document]:
    if not settings.mongodb_uri:
        raise RuntimeError("MONGODB_URI is not set and no embedded database was started")
    MAX_TIME.request = settings.max_time_ms
    MAX_TIME.job = settings.job_max_time_ms
    return AsyncMongoClient(
        settings.mongodb_uri,
        tz_aware=True,
        uuidRepresentation="standard",
        serverSelectionTimeoutMS=settings.server_selection_timeout_ms,
        appname="contactgraph",
        event_listeners=list(listeners),
    )


def _asc(*fields: str) -> list[tuple[str, int]]:
    return [(f, ASCENDING) for f in fields]


# Partial filters for "this field holds a string" (or a number). MongoDB compares values
# within one BSON type only, so ``{$gte: ""}`` selects exactly the strings, like ``{$type:
# "string"}``, and both are accepted in a partialFilterExpression. The embedded engine uses
# a partial index only when it can prove the query implies the filter, and its prover knows
# ``$eq $lt $lte $gt $gte`` only: with ``$type`` (or ``$exists``) a lookup by email decoded
# the whole account (310 ms at 10,000 contacts), with ``$gte`` it is served (0.7 ms).
_STRING = {"$gte": ""}
_NUMBER = {"$gte": float("-inf")}

# Every index starts with accountId (TTL indexes aside); each says which reads it serves.
# Filters put accountId LAST (``AccountCollection.scoped``) and the selective field first: the embedded engine
# serves ``{_id: X, accountId: A}`` as a point lookup but scans the account for
# ``{accountId: A, _id: X}``; MongoDB does not care about key order.
INDEXES: dict[str, list[IndexModel]] = {
    # API keys are looked up by _id (the key's hash); this one lists an account's keys.
    API_KEYS: [IndexModel(_asc("accountId"), name="accountId")],
    # The account configuration (read once per request at most, cached 10 s).
    ATTRIBUTE_DEFINITIONS: [IndexModel(_asc("accountId", "key"), unique=True, name="account_key")],
    LISTS: [IndexModel(_asc("accountId", "key"), unique=True, name="account_key")],
    AUDIENCES: [IndexModel(_asc("accountId", "key"), unique=True, name="account_key")],
    CONTACTS: [
        # Refs by email (contact(ref:), eventRecord, upserts, import chunks: `$in` of a
        # chunk's emails); emails are unique per account.
        IndexModel(
            _asc("accountId", "channels.email.address"),
            unique=True,
            partialFilterExpression={"channels.email.address": _STRING},
            name="account_email",
        ),
        # Refs by sms ("sms:16198880000"), unique per account.
        IndexModel(
            _asc("accountId", "channels.sms.address"),
            unique=True,
            partialFilterExpression={"channels.sms.address": _STRING},
            name="account_sms",
        ),
        # contacts(sort: LAST_MODIFIED) and where.lastModified ranges.
        IndexModel([("accountId", ASCENDING), ("lastModified", DESCENDING)], name="account_lastModified"),
        # where.createdAt ranges and sort: CREATED_AT.
        IndexModel([("accountId", ASCENDING), ("createdAt", ASCENDING)], name="account_createdAt"),
        # where.inLists / notInLists and list criteria of reports (multikey).
        IndexModel(_asc("accountId", "lists"), name="account_lists"),
    ],
    # Merged-away cIDs → their survivor (refs by an old cID).
    CONTACT_ALIASES: [IndexModel(_asc("accountId", "cID"), unique=True, name="account_cID")],
    ACTIVITIES: [
        # Contact.activities (the newest N of each contact of a page: `cID: {$in}`, one
        # aggregation), merges moving a contact's events, profile exports, mcID checks.
        IndexModel([("accountId", 1), ("cID", 1), ("ats", -1)], name="account_cID_ats"),
        # activities(where: {action(s)/trackingTypes, ats}), activity conditions of
        # contacts and audiences, report statistics (message actions in a window).
        IndexModel([("accountId", 1), ("action", 1), ("ats", -1)], name="account_action_ats"),
        # activities(where: {ats}) windows without an action.
        IndexModel([("accountId", 1), ("ats", -1)], name="account_ats"),
        # eventRecord's idempotencyKey: a repeated key stores nothing (unique).
        IndexModel(
            _asc("accountId", "idempotencyKey"),
            unique=True,
            partialFilterExpression={"idempotencyKey": _STRING},
            name="account_idempotencyKey",
        ),
        # Retention: activities expire 18 months after ats.
        IndexModel(_asc("expireAt"), expireAfterSeconds=0, name="ttl_expireAt"),
    ],
    # The first type seen per (action, property key).
    EVENT_PROPERTIES: [
        IndexModel(_asc("accountId", "action", "key"), unique=True, name="account_action_key")
    ],
    # Campaigns are read by _id (Activity.message); this lists an account's.
    MESSAGES: [IndexModel(_asc("accountId"), name="accountId")],
    ORDERS: [
        # orderRecord upserts and refs by orderID (unique per account).
        IndexModel(_asc("accountId", "orderID"), unique=True, name="account_orderID"),
        # Contact.orders (the newest N of each contact of a page, one aggregation), merges.
        IndexModel([("accountId", 1), ("cID", 1), ("purchaseDate", -1)], name="account_cID_purchaseDate"),
    ],
    # The shared cost budget of each API key (app/ratelimit.py) is read by _id only.
    RATE_LIMITS: [IndexModel(_asc("accountId"), name="accountId")],
    JOBS: [
        # jobs(...) listings, newest first.
        IndexModel([("accountId", 1), ("createdAt", -1)], name="account_createdAt"),
        # The workers' claim (new jobs, and running ones whose lease ran out); unscoped.
        IndexModel(_asc("state", "leaseUntil"), name="state_leaseUntil"),
        # Jobs are kept 10 days.
        IndexModel(_asc("expireAt"), expireAfterSeconds=0, name="ttl_expireAt"),
    ],
    # activityReports(...) listings.
    ACTIVITY_REPORTS: [IndexModel([("accountId", 1), ("createdAt", -1)], name="account_createdAt")],
    # Job result files (GridFS bucket "downloads"; see app/jobs/repository.py): an account's
    # files by age (purge), and a file's chunks in order (downloads).
    "downloads.files": [IndexModel(_asc("metadata.accountId", "uploadDate"), name="account_uploadDate")],
    "downloads.chunks": [IndexModel(_asc("files_id", "n"), unique=True, name="files_id_n")],
}


def secondary_key_indexes(key: str) -> list[IndexModel]:
    """Refs by a secondary (or non-email primary) key, unique per account: one partial index
    for string values and one for numbers (identifier keys are string or number
    attributes, and the embedded engine proves neither ``$exists`` nor ``$type``)."""
    field = f"attributes.{key}"
    return [
        IndexModel(
            _asc("accountId", field),
            unique=True,
            partialFilterExpression={field: kind},
            name=f"account_key_{key}{suffix}",
        )
        for kind, suffix in ((_STRING, ""), (_NUMBER, "_number"))
    ]


def _same_index(existing: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    options = ("unique", "partialFilterExpression", "expireAfterSeconds")
    return list(dict(existing["key"]).items()) == list(dict(wanted["key"]).items()) and all(
        existing.get(o) == wanted.get(o) for o in options
    )


async def create_indexes(collection: Collection, models: Sequence[IndexModel]) -> None:
    """Create ``models``, replacing an index of the same name whose keys or options differ
    (an older definition: e.g. a partial filter rewritten for the planners)."""
    existing = {index["name"]: index async for index in await collection.list_indexes()}
    for model in models:
        wanted = model.document
        found = existing.get(wanted["name"])
        if found is not None and not _same_index(found, wanted):
            await collection.drop_index(wanted["name"])
    await collection.create_indexes(list(models))


async def ensure_indexes(db: Database) -> None:
    """Create every index listed above, plus the unique indexes of each account identifier key."""
    for name, models in INDEXES.items():
        await create_indexes(db[name], models)
    keys: set[str] = set()
    async for account in db[ACCOUNTS].find(
        {}, {"secondaryKeys": 1, "primaryKey": 1}, max_time_ms=MAX_TIME.request
    ):
        keys.update(account.get("secondaryKeys", []))
        if account.get("primaryKey", "email") != "email":
            keys.add(account["primaryKey"])
    if keys:
        await create_indexes(db[CONTACTS], [m for k in sorted(keys) for m in secondary_key_indexes(k)])


@asynccontextmanager
async def indexes_built_after(db: Database, collections: Sequence[str]) -> AsyncIterator[None]:
    """A bulk load into collections that are still empty, with their indexes built once
    the data is in (``ensure_indexes``) instead of maintained document by document: about
    3x faster on the embedded engine, and what MongoDB recommends for bulk loads. Indexes
    of a collection that already holds documents (another account's) are left alone."""
    emptied = []
    for name in collections:
        if await db[name].find_one({}, {"_id": 1}, max_time_ms=MAX_TIME.request) is None:
            await db[name].drop_indexes()
            emptied.append(name)
    try:
        yield
    finally:
        if emptied:
            await ensure_indexes(db)


def object_id(value: Any) -> ObjectId | None:
    """A hex id as an ObjectId, or None when it is not one."""
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        return None


async def top_n_per_parent(
    collection: Collection,
    match: Document,
    parent_field: str,
    sort: list[tuple[str, int]],
    limit: int,
    seek: Document | None = None,
    fields: Sequence[str] | None = None,
) -> dict[Any, tuple[list[Document], int]]:
    """For every parent in ``match``: its first ``limit`` documents in ``sort`` order after
    the optional ``seek`` expression (only ``fields`` of them, if given), and how many
    documents it has in all. ONE command, whatever the number of parents (``$group`` with
    ``$topN``).

    ``match`` must already be account-scoped (``AccountCollection.page_per_parent``).

    Dates come back naive (UTC, as stored): these pages are only rendered, and the driver
    makes each date timezone-aware with a ``datetime.replace`` call that costs more than
    decoding the rest of an activity (12% of a 200-contact read's instructions).
    ``format_datetime`` and the cursors take a naive date as UTC.
    """
    if "accountId" not in match:
        raise ValueError("top_n_per_parent needs an account-scoped match")
    collection = collection.with_options(codec_options=collection.codec_options.with_options(tz_aware=False))
    sort_by = dict(sort)
    pipeline: list[Document] = [{"$match": match}]
    if seek is not None:
        pipeline.append({"$set": {"__page": {"$cond": [seek, 1, 0]}}})
        sort_by = {"__page": -1, **sort_by}
    output: Any = "$$ROOT"
    if fields is not None:  # fewer bytes over the wire and to decode than whole documents
        output = {f: f"${f}" for f in (*fields, *(["__page"] if seek is not None else []))}
    pipeline.append(
        {
            "$group": {
                "_id": f"${parent_field}",
                "total": {"$sum": 1},
                "items": {"$topN": {"n": max(limit, 1), "sortBy": sort_by, "output": output}},
            }
        }
    )
    result: dict[Any, tuple[list[Document], int]] = {}
    async for group in await collection.aggregate(pipeline, maxTimeMS=MAX_TIME.request):
        items = group["items"] if limit > 0 else []
        if seek is not None:
            items = [d for d in items if d.pop("__page") == 1]
        result[group["_id"]] = (items, group["total"])
    return result


def projection(fields: Iterable[str]) -> Document:
    """A find projection of ``fields`` (dotted paths). A path under another one asked for
    whole is left out: the database refuses the two together (a path collision)."""
    paths = set(fields)
    return {f: 1 for f in sorted(paths) if not any(f.startswith(f"{o}.") for o in paths)}


def under(prefix: str, query: Document) -> Document:
    """A query-language filter rewritten onto a sub-document (``fullDocument.`` for change
    streams), through $and/$or/$nor lists."""
    out: Document = {}
    for key, value in query.items():
        if key in ("$and", "$or", "$nor"):
            out[key] = [under(prefix, v) for v in value]
        else:
            out[prefix + key] = value
    return out


async def watch(
    collection: Collection,
    account_id: str,
    match: Document,
    *,
    deletes: bool = False,
    current: Callable[[], Awaitable[Document | None]] | None = None,
) -> AsyncGenerator[Document, None]:
    """Changes to ``collection`` that ``match``, of this account's documents only: the
    account condition is added here, whatever ``match`` says. A delete event carries no
    document (so no account): ``deletes=True`` lets them through only when ``match`` pins
    ``documentKey._id`` to one document the caller has checked is this account's. The
    driver resumes the stream by itself after transient errors.

    With ``current``, its document comes first (``{"operationType": "current",
    "fullDocument": doc}``), read once the stream is open: a change made between the read
    and the start of watching cannot be missed."""
    pipeline = _change_pipeline(account_id, match, deletes)
    async with await collection.watch(pipeline, full_document="updateLookup") as stream:
        if current is not None:
            yield {"operationType": "current", "fullDocument": await current()}
        async for change in stream:
            yield change


# ChangeStreamHistoryLost, ChangeStreamFatalError: the position left the oplog.
_HISTORY_LOST = (286, 280)
# FailedToParse, BadValue, Unauthorized (another namespace), InvalidResumeToken.
_BAD_TOKEN = (9, 2, 13, 260)


class ResumeTokenExpired(Exception):
    """A change stream cannot resume there: the oplog no longer holds that position."""


class ResumeTokenInvalid(Exception):
    """Not a resume token of this collection."""


def _change_pipeline(account_id: str, match: Document, deletes: bool) -> list[Document]:
    if not account_id:
        raise ValueError("an account id is required for every change stream")
    account: Document = {"fullDocument.accountId": account_id}
    if deletes:
        if not isinstance(match.get("documentKey._id"), ObjectId):
            raise ValueError("deletes carry no account: pin documentKey._id to one checked document")
        account = {"$or": [account, {"operationType": "delete"}]}
    return [{"$match": {"$and": [match, account]}}]


async def watch_resumable(
    collection: Collection,
    account_id: str,
    match: Document,
    *,
    start_after: Document | None,
    checkpoint_s: float,
) -> AsyncGenerator[tuple[Document, Document | None], None]:
    """``watch`` that can be resumed from any position: (resume token, change) pairs, the
    token of each change being where to start after it, with MongoDB's ``startAfter`` (the
    oplog position, so it holds across replicas, restarts and concurrent writers). Without
    ``start_after`` the stream starts now. A ``(token, None)`` checkpoint comes first when
    the stream starts now, then whenever ``checkpoint_s`` passed without a change and the
    position moved on, so that a quiet stream's last token stays inside the oplog window.
    Raises ResumeTokenExpired / ResumeTokenInvalid for a ``start_after`` it cannot use."""
    pipeline = _change_pipeline(account_id, match, False)
    try:
        stream = await collection.watch(
            pipeline, full_document="updateLookup", start_after=start_after, max_await_time_ms=1000
        )
    except OperationFailure as exc:
        if exc.code in _HISTORY_LOST:
            raise ResumeTokenExpired(str(exc)) from exc
        if start_after is not None and exc.code in _BAD_TOKEN:
            raise ResumeTokenInvalid(str(exc)) from exc
        raise
    async with stream:
        last: Document | None = None
        if start_after is None and stream.resume_token is not None:
            last = dict(stream.resume_token)
            yield last, None
        quiet_since = time.monotonic()
        while stream.alive:
            try:
                change = await stream.try_next()
            except OperationFailure as exc:  # the driver's own resume can find the history gone
                if exc.code in _HISTORY_LOST:
                    raise ResumeTokenExpired(str(exc)) from exc
                raise
            if change is not None:
                last = dict(change["_id"])
                quiet_since = time.monotonic()
                yield last, change
            elif time.monotonic() - quiet_since >= checkpoint_s:
                quiet_since = time.monotonic()
                token = stream.resume_token
                if token is not None and dict(token) != last:
                    last = dict(token)
                    yield last, None
