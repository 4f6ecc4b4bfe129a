"""API keys: generation, hashing, the HTTP authentication middleware, scopes and permissions.

Keys are shown once and stored as SHA-256 hashes (``apiKeys._id``). A request
authenticates with HTTP Basic (the key as the username, as the reference API does)
or ``Authorization: Bearer KEY``. The key decides the account: every query the
request runs is scoped to ``Principal.account_id``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson
from pymongo.errors import PyMongoError
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.permission import BasePermission
from strawberry.types import Info

KEY_PREFIX = "cg_"
log = logging.getLogger(__name__)


class ScopeName(StrEnum):
    CONTACTS_READ = "contacts:read"
    CONTACTS_WRITE = "contacts:write"
    ACTIVITIES_READ = "activities:read"
    ACTIVITIES_WRITE = "activities:write"
    ACTIVITIES_SYSTEM = "activities:system"
    REPORTS = "reports"
    ADMIN = "admin"


ALL_SCOPES: frozenset[ScopeName] = frozenset(ScopeName)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the account and what the key may do."""

    account_id: str
    key_id: str
    scopes: frozenset[ScopeName]
    key_name: str = ""  # the API key's name, as consent history entries record it

    def allows(self, scope: ScopeName) -> bool:
        # `admin` is the account owner's key: it may do everything.
        return scope in self.scopes or ScopeName.ADMIN in self.scopes


# The principal of a request that carries no key (only the GraphiQL page): it holds no
# scope, and its empty account id makes every repository call refuse to run.
ANONYMOUS = Principal(account_id="", key_id="", scopes=frozenset())


class PrincipalCache:
    """Keys seen in the last ``ttl_s`` seconds, so that authenticating costs no database
    command per request. Only known keys are cached (a new key works at once); a revoked
    key keeps working for at most ``ttl_s`` seconds. Keyed by the key's hash."""

    def __init__(self, ttl_s: float = 10.0, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, key_hash: str) -> Principal | None:
        entry = self._entries.get(key_hash)
        if entry is None or entry[0] < time.monotonic():
            self._entries.pop(key_hash, None)
            return None
        return entry[1]

    def put(self, key_hash: str, principal: Principal) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key_hash] = (time.monotonic() + self.ttl_s, principal)


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_scopes(values: list[str]) -> frozenset[ScopeName]:
    try:
        return frozenset(ScopeName(v) for v in values)
    except ValueError as exc:
        known = ", ".join(s.value for s in ScopeName)
        raise ValueError(f"unknown scope in {values}: known scopes are {known}") from exc


def key_from_authorization(header: str | None) -> str | None:
    """``Basic base64(key:)`` (the key as username) or ``Bearer key``."""
    if not header:
        return None
    kind, _, value = header.strip().partition(" ")
    value = value.strip()
    if kind.lower() == "bearer":
        return value or None
    if kind.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, _, password = decoded.partition(":")
        return username or password or None
    return None


Authenticator = Callable[[str], Awaitable[Principal | None]]


class ApiKeyMiddleware:
    """Authenticates requests under the protected paths; 401 with a JSON body otherwise.

    The GraphiQL page itself (a browser GET of ``/graphql`` asking for HTML, with no
    query) is served without a key: it holds no data, and the key goes in its headers.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticator: Callable[[Scope], Authenticator],
        protected: tuple[str, ...] = ("/graphql", "/downloads"),
    ) -> None:
        self.app = app
        self.authenticator = authenticator
        self.protected = protected

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not scope["path"].startswith(self.protected):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if scope["type"] == "http" and _is_ide_page(scope, headers):
            await self.app(scope, receive, send)
            return
        if (
            scope["type"] == "http"
            and scope["method"] == "OPTIONS"
            and "access-control-request-method" in headers
        ):
            # A CORS preflight reaches here only when no origin is allowed (CORSMiddleware
            # answers it otherwise): say so, rather than a 401 no browser can send a key past.
            message = (
                f"Cross-origin requests from {headers.get('origin', 'this origin')} are not enabled: "
                "list the origin in CONTACTGRAPH_CORS_ORIGINS"
            )
            await _json_error(scope, receive, send, 403, message, "CORS_ORIGIN_NOT_ALLOWED")
            return
        if sum(1 for k, _ in scope["headers"] if k.lower() == b"authorization") > 1:
            # Which key would be meant? Proxies and clients disagree (first or last wins),
            # so an ambiguous request is refused rather than served as either account.
            message = "Send one Authorization header: this request carries several"
            await _json_error(scope, receive, send, 400, message, "AMBIGUOUS_CREDENTIALS")
            return
        key = key_from_authorization(headers.get("authorization"))
        if key is None and scope["type"] == "websocket":
            # Browsers cannot set headers on a websocket: the key may come in the
            # graphql-transport-ws connection_init payload instead (GraphQLView.on_ws_connect).
            await self.app(scope, receive, send)
            return
        try:
            principal = await self.authenticator(scope)(key) if key else None
        except PyMongoError:
            log.warning("API key lookup failed: database unavailable", exc_info=True)
            await _json_error(
                scope, receive, send, 503, "The database is unavailable; retry shortly", "UNAVAILABLE"
            )
            return
        if principal is None:
            await _unauthorized(scope, receive, send, "missing" if key is None else "unknown")
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


def _is_ide_page(scope: Scope, headers: dict[str, str]) -> bool:
    return (
        scope["method"] == "GET"
        and "text/html" in headers.get("accept", "")
        and b"query=" not in scope.get("query_string", b"")
    )


async def _unauthorized(scope: Scope, receive: Receive, send: Send, why: str) -> None:
    message = (
        "Missing API key: send 'Authorization: Bearer <key>' or HTTP Basic with the key as username"
        if why == "missing"
        else "Unknown or revoked API key"
    )
    await _json_error(scope, receive, send, 401, message, "UNAUTHENTICATED")


async def _json_error(
    scope: Scope, receive: Receive, send: Send, status: int, message: str, code: str
) -> None:
    if scope["type"] == "websocket":
        # Closed before the handshake, a browser sees a bare 403 and graphql-ws retries: the
        # socket is accepted first, so that the code (4401, 4403: not retried) and the
        # reason reach the client.
        offered = scope.get("subprotocols") or []
        chosen = "graphql-transport-ws" if "graphql-transport-ws" in offered else next(iter(offered), None)
        await receive()  # websocket.connect
        await send({"type": "websocket.accept", "subprotocol": chosen})
        await send({"type": "websocket.close", "code": 4000 + status, "reason": message[:120]})
        return
    body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        # Bearer only: a Basic challenge makes browsers (and GraphiQL's fetch) open a login prompt.
        headers.append((b"www-authenticate", b'Bearer realm="contactgraph"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def ensure_allowed(principal: Principal, scope: ScopeName) -> None:
    """For checks that depend on the object (e.g. the kind of a job): the same error a
    field's permission class gives."""
    if not principal.allows(scope):
        denied = requires(scope)()
        raise denied.error_class(denied.message or "Not allowed", extensions=denied.error_extensions)


_permission_classes: dict[ScopeName, type[BasePermission]] = {}


def requires(scope: ScopeName) -> type[BasePermission]:
    """A Strawberry permission class that admits keys holding ``scope``."""
    if scope in _permission_classes:
        return _permission_classes[scope]

    class RequiresScope(BasePermission):
        message = f"Not allowed: this field requires the '{scope.value}' scope"
        error_extensions = {"code": "FORBIDDEN", "requiredScope": scope.value}

        def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
            principal: Principal = info.context.principal
            return principal.allows(scope)

    RequiresScope.__name__ = f"Requires_{scope.name}"
    _permission_classes[scope] = RequiresScope
    return RequiresScope
