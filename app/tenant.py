"""One account's view of the database: the only way application code reaches a collection.

A ``Tenant`` is built from the caller's account id (``Context.tenant``, a job's
``accountId``, the CLI's ``--account``) and handed from the resolvers to the use cases and
on to the repositories. ``tenant[CONTACTS]`` is an ``AccountCollection``: every filter it
is given is narrowed to the account (whatever the filter says, ``$and``/``$or`` included),
every document it inserts is stamped with it, every aggregation starts with the account's
``$match`` and every ``$lookup`` joins within it, every change stream carries only its
documents. A filter naming another account raises instead of being widened or narrowed
silently. So a repository cannot write an unscoped query: the raw driver objects are not
reachable from here, and ``tests/test_tenancy.py`` checks that nothing outside
``app.db``, this module and ``app.process_wide`` (the few reads that serve the whole
process) indexes a database.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from pymongo import IndexModel, InsertOne, ReplaceOne
from pymongo.asynchronous.command_cursor import AsyncCommandCursor
from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.results import BulkWriteResult, DeleteResult, InsertManyResult, InsertOneResult, UpdateResult

from app import db
from app.db import MAX_TIME, Collection, Database, Document, Session
from app.pagination import PageSource, PerParentQuery, seek_expression

T = TypeVar("T")
Filter = Mapping[str, Any]


class AccountCollection:
    """A collection seen through one account. The methods are PyMongo's (same arguments,
    same results) with the account applied; the few helpers below them (``find_page``,
    ``count``, ``by_ids``, ``by_node_ids``, ``page_per_parent``) are the reads every
    repository needs. ``field`` is where a document holds its account (``accountId``; the
    result files' metadata holds it in ``metadata.accountId``)."""

    __slots__ = ("_collection", "account_id", "field")

    def __init__(self, collection: Collection, account_id: str, field: str = "accountId") -> None:
        if not account_id:
            raise ValueError("an account id is required for every query")
        self._collection = collection
        self.account_id = account_id
        self.field = field

    # -- what scoping means ----------------------------------------------------------------

    def scoped(self, query: Filter | None = None) -> Document:
        """``query`` narrowed to this account (the account condition last: the embedded
        engine plans the selective field first). A query already naming this account is
        kept; one naming another account is refused."""
        result: Document = dict(query or {})
        named = result.pop(self.field, self.account_id)
        if named != self.account_id:
            raise ValueError(f"a filter of account {self.account_id!r} names another account")
        result[self.field] = self.account_id
        return result

    def stamped(self, doc: Document) -> Document:
        """``doc`` with its account set (the same check as ``scoped``), in a sub-document
        for a dotted ``field``."""
        head, _, rest = self.field.partition(".")
        if not rest:
            return self.scoped(doc)
        inner = dict(doc.get(head) or {})
        if inner.setdefault(rest, self.account_id) != self.account_id:
            raise ValueError(f"a document of account {self.account_id!r} names another account")
        return {**doc, head: inner}

    def pipeline(self, stages: Sequence[Document]) -> list[Document]:
        """An aggregation kept inside the account: the first stage is the account's ``$match``
        (the caller's first ``$match`` narrowed, or one added), and every ``$lookup`` reads
        only the account's documents of the collection it joins."""
        out = [self._lookup_scoped(stage) for stage in stages]
        if out and "$match" in out[0]:
            out[0] = {"$match": self.scoped(out[0]["$match"])}
        else:
            out.insert(0, {"$match": self.scoped()})
        return out

    def _lookup_scoped(self, stage: Document) -> Document:
        lookup = stage.get("$lookup")
        if lookup is None:
            return stage
        inner = [self._lookup_scoped(s) for s in lookup.get("pipeline", [])]
        if inner and "$match" in inner[0]:
            inner[0] = {"$match": self.scoped(inner[0]["$match"])}
        else:
            inner.insert(0, {"$match": {"accountId": self.account_id}})
        return {"$lookup": {**lookup, "pipeline": inner}}

    # -- PyMongo's methods, scoped ---------------------------------------------------------

    def find(self, query: Filter | None = None, *args: Any, **kwargs: Any) -> AsyncCursor[Document]:
        kwargs.setdefault("max_time_ms", MAX_TIME.request)
        return self._collection.find(self.scoped(query), *args, **kwargs)

    async def find_one(self, query: Filter | None = None, *args: Any, **kwargs: Any) -> Document | None:
        kwargs.setdefault("max_time_ms", MAX_TIME.request)
        return await self._collection.find_one(self.scoped(query), *args, **kwargs)

    async def count_documents(self, query: Filter | None = None, **kwargs: Any) -> int:
        kwargs.setdefault("maxTimeMS", MAX_TIME.request)
        return await self._collection.count_documents(self.scoped(query), **kwargs)

    async def aggregate(self, stages: Sequence[Document], **kwargs: Any) -> AsyncCommandCursor[Document]:
        kwargs.setdefault("maxTimeMS", MAX_TIME.request)
        return await self._collection.aggregate(self.pipeline(stages), **kwargs)

    async def insert_one(self, doc: Document, **kwargs: Any) -> InsertOneResult:
        return await self._collection.insert_one(self.stamped(doc), **kwargs)

    async def insert_many(self, docs: Sequence[Document], **kwargs: Any) -> InsertManyResult:
        return await self._collection.insert_many([self.stamped(d) for d in docs], **kwargs)

    async def update_one(self, query: Filter, update: Any, **kwargs: Any) -> UpdateResult:
        return await self._collection.update_one(self.scoped(query), update, **kwargs)

    async def update_many(self, query: Filter, update: Any, **kwargs: Any) -> UpdateResult:
        return await self._collection.update_many(self.scoped(query), update, **kwargs)

    async def replace_one(self, query: Filter, doc: Document, **kwargs: Any) -> UpdateResult:
        return await self._collection.replace_one(self.scoped(query), self.stamped(doc), **kwargs)

    async def delete_one(self, query: Filter, **kwargs: Any) -> DeleteResult:
        return await self._collection.delete_one(self.scoped(query), **kwargs)

    async def delete_many(self, query: Filter, **kwargs: Any) -> DeleteResult:
        return await self._collection.delete_many(self.scoped(query), **kwargs)

    async def find_one_and_update(self, query: Filter, update: Any, **kwargs: Any) -> Document | None:
        kwargs.setdefault("maxTimeMS", MAX_TIME.request)
        return await self._collection.find_one_and_update(self.scoped(query), update, **kwargs)

    async def bulk_write(
        self, inserts: Sequence[Document], replaces: Sequence[tuple[Filter, Document]], **kwargs: Any
    ) -> BulkWriteResult:
        """Inserts first, then (filter, replacement) pairs, in one bulk write: a write
        error's ``index`` counts the inserts first."""
        ops: list[InsertOne[Document] | ReplaceOne[Document]] = [InsertOne(self.stamped(d)) for d in inserts]
        ops += [ReplaceOne(self.scoped(q), self.stamped(d)) for q, d in replaces]
        return await self._collection.bulk_write(ops, **kwargs)

    async def create_indexes(self, models: Sequence[IndexModel]) -> None:
        """Indexes serve every account (each starts with ``accountId``)."""
        await db.create_indexes(self._collection, models)

    def watch(
        self,
        match: Document,
        *,
        deletes: bool = False,
        current: Callable[[], Awaitable[Document | None]] | None = None,
    ) -> AsyncGenerator[Document, None]:
        """``app.db.watch`` of this collection, for this account."""
        return db.watch(self._collection, self.account_id, match, deletes=deletes, current=current)

    def watch_resumable(
        self, match: Document, *, start_after: Document | None, checkpoint_s: float
    ) -> AsyncGenerator[tuple[Document, Document | None], None]:
        """``app.db.watch_resumable`` of this collection, for this account."""
        return db.watch_resumable(
            self._collection, self.account_id, match, start_after=start_after, checkpoint_s=checkpoint_s
        )

    # -- the reads every repository needs --------------------------------------------------

    async def by_ids(self, ids: Sequence[Any]) -> list[Document]:
        """The account's documents with these ``_id``s (any order), in one round trip."""
        # A first batch larger than the most results there can be closes the cursor at once.
        return await self.find({"_id": {"$in": list(ids)}}).batch_size(len(ids) + 1).to_list()

    async def by_node_ids(self, node_ids: Sequence[str]) -> list[Document | None]:
        """Documents for Relay node ids (hex ObjectIds), in order; None for unknown or malformed."""
        ids = [db.object_id(value) for value in node_ids]
        found = await self.by_ids([i for i in ids if i is not None])
        by_id = {d["_id"]: d for d in found}
        return [by_id.get(i) if i is not None else None for i in ids]

    async def find_page(
        self, query: Filter, sort: list[tuple[str, int]], limit: int, fields: Sequence[str] | None = None
    ) -> list[Document]:
        """One page of the account's documents matching ``query`` (a seek filter included), in
        one round trip: the first batch holds the whole page; only ``fields`` of them, if given."""
        projection = db.projection(fields) if fields is not None else None
        return await self.find(query, projection).sort(sort).limit(limit).batch_size(limit).to_list()

    async def count(self, query: Filter) -> int:
        return await self.count_documents(query)

    def pages(self, fields: Sequence[str] | None = None) -> PageSource:
        """This collection as fetch_page reads it: only ``fields`` of each document, if given."""
        return self if fields is None else _Projected(self, tuple(fields))

    async def page_per_parent(
        self, parent_field: str, parent_ids: Sequence[Any], query: PerParentQuery
    ) -> dict[Any, tuple[list[Document], int]]:
        """A nested connection's page for every parent (one command); fetches one extra
        document per parent so the caller can tell whether there is a next page."""
        match = self.scoped({**query.match, parent_field: {"$in": list(parent_ids)}})
        seek = seek_expression(query.sort, query.after) if query.after else None
        return await db.top_n_per_parent(
            self._collection,
            match,
            parent_field,
            query.sort.mongo_sort(),
            query.limit + 1,
            seek,
            query.fields,
        )


class Tenant:
    """The caller's account and the database it lives in: ``tenant[name]`` is that
    collection seen through the account (``AccountCollection``), ``tenant.transaction``
    runs writes all-or-nothing."""

    __slots__ = ("_db", "account_id")

    def __init__(self, account_id: str, database: Database) -> None:
        # An empty account (a websocket before its connection_init) may be held, never
        # queried: AccountCollection refuses it.
        self.account_id = account_id
        self._db = database

    def __getitem__(self, name: str) -> AccountCollection:
        return AccountCollection(self._db[name], self.account_id)

    def files(self, bucket: str) -> AccountCollection:
        """A GridFS bucket's files collection: the account is in each file's metadata."""
        return AccountCollection(self._db[f"{bucket}.files"], self.account_id, "metadata.accountId")

    async def transaction(self, work: Callable[[Session], Awaitable[T]]) -> T:
        """``app.db.transaction``: ``work(session)``'s writes land together or not at all."""
        return await db.transaction(self._db.client, work)

    def __repr__(self) -> str:
        return f"Tenant({self.account_id!r})"


class _Projected:
    """A collection's pages with only some fields of each document."""

    def __init__(self, collection: AccountCollection, fields: tuple[str, ...]) -> None:
        self._collection, self._fields = collection, fields

    async def find_page(self, query: Filter, sort: list[tuple[str, int]], limit: int) -> list[Document]:
        return await self._collection.find_page(query, sort, limit, self._fields)

    async def count(self, query: Filter) -> int:
        return await self._collection.count(query)
