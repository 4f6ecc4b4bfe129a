"""Persisted queries: Apollo's automatic persisted queries (APQ) and a safelist mode.

APQ (the default): a client sends ``extensions.persistedQuery {version: 1, sha256Hash}``
without the query; an unknown hash answers ``PersistedQueryNotFound`` and the client
sends the query once with its hash, which is checked and remembered for the caller's
account (per process, the most recent 10,000): a hash registered by one account is
unknown to every other, so no account can test which queries another one sends.
Works over POST, GET and websockets.

Safelist (``CONTACTGRAPH_PERSISTED_QUERIES=safelist``): only the operations of the
manifest in ``CONTACTGRAPH_SAFELIST_FILE`` run, sent by hash or as their exact text;
anything else is refused before parsing. The manifest is Apollo's persisted query
manifest (``{"format": "apollo-persisted-query-manifest", "version": 1, "operations":
[{"id": sha256(body), "name", "type", "body"}]}``); ``contactgraph safelist`` writes one.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

import orjson
from graphql import GraphQLError, OperationDefinitionNode, parse
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

Mode = Literal["apq", "safelist", "off"]
MANIFEST_FORMAT = "apollo-persisted-query-manifest"


def sha256(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def _error(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


class PersistedQueryStore:
    """The queries this process knows by hash: the safelist (the operator's, for every
    account), or the APQ cache (per account)."""

    def __init__(self, mode: Mode, safelist: dict[str, str] | None = None, max_entries: int = 10_000) -> None:
        if mode == "safelist" and safelist is None:
            raise ValueError("safelist mode needs a manifest (CONTACTGRAPH_SAFELIST_FILE)")
        self.mode = mode
        self.safelist = safelist or {}
        self.max_entries = max_entries
        self._cache: OrderedDict[tuple[str, str], str] = OrderedDict()

    def get(self, account_id: str, digest: str) -> str | None:
        if self.mode == "safelist":
            return self.safelist.get(digest)
        query = self._cache.get((account_id, digest))
        if query is not None:
            self._cache.move_to_end((account_id, digest))
        return query

    def remember(self, account_id: str, digest: str, query: str) -> None:
        self._cache[account_id, digest] = query
        self._cache.move_to_end((account_id, digest))
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)

    def resolve(self, account_id: str, query: str | None, extensions: dict[str, Any] | None) -> str | None:
        """The query to run for a request, or a GraphQLError saying why there is none."""
        if self.mode == "off":
            return query
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if self.mode == "safelist" and query is not None and sha256(query) not in self.safelist:
                raise _error("Only operations of the safelist may run", "QUERY_NOT_IN_SAFELIST")
            return query
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise _error("Unsupported persisted query version", "PERSISTED_QUERY_VERSION_NOT_SUPPORTED")
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str):
            raise _error("persistedQuery.sha256Hash must be a string", "PERSISTED_QUERY_HASH_MISMATCH")
        if query is not None:
            if sha256(query) != digest:
                raise _error("provided sha does not match query", "PERSISTED_QUERY_HASH_MISMATCH")
            if self.mode == "safelist":
                if digest not in self.safelist:
                    raise _error("PersistedQueryNotInList", "PERSISTED_QUERY_NOT_IN_LIST")
            else:
                self.remember(account_id, digest, query)
            return query
        known = self.get(account_id, digest)
        if known is None:
            if self.mode == "safelist":
                raise _error("PersistedQueryNotInList", "PERSISTED_QUERY_NOT_IN_LIST")
            raise _error("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
        return known


# What a refused request parses, one per operation type a transport may allow; it is never
# validated or run (the refusal is its validation error).
_PLACEHOLDERS = {kind: f"{kind.value} {{ __typename }}" for kind in OperationType}


class PersistedQueries(SchemaExtension):
    """Puts the persisted query in place before parsing, or refuses the request. A refusal
    is reported as the operation's validation error, the one path every transport (POST,
    GET, websocket) answers as a GraphQL error; so this must be the LAST extension."""

    def __init__(self, *, store: PersistedQueryStore) -> None:
        self.store = store
        self.refusal: GraphQLError | None = None

    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context
        principal = getattr(ctx.context, "principal", None)
        account_id = principal.account_id if principal is not None else ""
        try:
            ctx.query = self.store.resolve(account_id, ctx.query, ctx.operation_extensions)
        except GraphQLError as refusal:
            self.refusal = refusal
            kind = next(k for k in OperationType if k in ctx.allowed_operations)
            ctx.query = _PLACEHOLDERS[kind]
            ctx._provided_operation_name = None  # the placeholder has no named operation
        yield

    def on_validate(self) -> Iterator[None]:
        if self.refusal is not None:
            self.execution_context.pre_execution_errors = [self.refusal]
        yield


def load_manifest(path: Path) -> dict[str, str]:
    """sha256 -> body of an Apollo persisted query manifest; every id is checked."""
    manifest = orjson.loads(path.read_bytes())
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"{path}: not an {MANIFEST_FORMAT}")
    operations: dict[str, str] = {}
    for entry in manifest.get("operations", []):
        body = entry["body"]
        if entry["id"] != sha256(body):
            raise ValueError(f"{path}: the id of {entry.get('name')!r} is not the sha256 of its body")
        operations[entry["id"]] = body
    return operations


def build_manifest(documents: Iterable[str]) -> dict[str, Any]:
    """A manifest with one entry per document (sent as it is, with ``operationName`` when
    it holds several operations); each document must parse."""
    operations = []
    for text in documents:
        body = text.strip()
        first = next(d for d in parse(body).definitions if isinstance(d, OperationDefinitionNode))
        operations.append(
            {
                "id": sha256(body),
                "name": first.name.value if first.name else "",
                "type": first.operation.value,
                "body": body,
            }
        )
    return {"format": MANIFEST_FORMAT, "version": 1, "operations": operations}
