"""The per-request Context: who is calling, the database, loaders, account configuration.

Everything here lives for one request: loaders never cache across requests or accounts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pymongo import AsyncMongoClient
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader
from strawberry.types import Info as StrawberryInfo

from app.account import repository as account_repository
from app.account.attributes import AttributeDefinition, load_definitions
from app.account.config import AccountConfig
from app.auth import Principal, PrincipalCache
from app.connection import PageByParentLoader, ToNode
from app.contacts.refs import IdentifierKeys
from app.db import Database, Document
from app.pagination import PerParentQuery
from app.secrets_box import SecretsBox
from app.settings import Settings
from app.tenant import Tenant

T = TypeVar("T")
L = TypeVar("L", bound=DataLoader[Any, Any])
P = TypeVar("P", bound=PageByParentLoader)


class AccountConfigCache:
    """Each account's configuration (the account document, attribute definitions, list
    keys) for ``ttl_s`` seconds, so that a request resolving a ref or validating a write
    does not read it again. A change made through this process forgets the account at
    once; a change made through another replica is seen within ``ttl_s``. 0 turns it off."""

    def __init__(self, ttl_s: float, max_accounts: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_accounts = max_accounts
        self._entries: dict[tuple[str, str], tuple[float, Any]] = {}

    async def get(self, account_id: str, part: str, load: Callable[[], Awaitable[T]]) -> T:
        if self.ttl_s <= 0:
            return await load()
        key = (account_id, part)
        entry = self._entries.get(key)
        if entry is not None and entry[0] > time.monotonic():
            cached: T = entry[1]
            return cached
        value = await load()
        if len(self._entries) >= self.max_accounts * 3:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.ttl_s, value)
        return value

    def forget(self, account_id: str) -> None:
        for key in [k for k in self._entries if k[0] == account_id]:
            del self._entries[key]


@dataclass
class Services:
    """Process-wide resources, built once by the app's lifespan."""

    settings: Settings
    client: AsyncMongoClient[Document]
    db: Database
    shutting_down: bool = False
    principals: PrincipalCache = field(default_factory=PrincipalCache)
    accounts: AccountConfigCache = field(init=False)
    secrets: SecretsBox | None = field(init=False)  # seals credentials queued jobs need
    on_shutdown: list[Callable[[], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.accounts = AccountConfigCache(self.settings.account_cache_s)
        self.secrets = SecretsBox.from_settings(self.settings)

    def begin_shutdown(self) -> None:
        """Stop taking work (SIGTERM): /readyz answers 503, the job worker hands its job back."""
        self.shutting_down = True
        for stop in self.on_shutdown:
            stop()


class Loaders:
    """The DataLoaders of one request, each made on first use and then shared by every
    resolver of the request (their cache lives as long as the request). Each domain defines
    its own loaders (``app.<domain>.loaders``): a class built from the caller's tenant, or,
    for nested connections, also from the page's query, so that every parent
    at a level with the same arguments shares one batched command. This module knows none
    of them."""

    def __init__(self, tenant: Tenant) -> None:
        self._tenant = tenant
        self._made: dict[Any, Any] = {}
        self._at_field: dict[tuple[int, ...], tuple[Any, Any]] = {}

    def of(self, make: Callable[[Tenant], L]) -> L:
        """The request's loader of this kind, e.g. ``loaders.of(ContactByIdLoader)``."""
        loader = self._made.get(make)
        if loader is None:
            loader = self._made[make] = make(self._tenant)
        made: L = loader
        return made

    def per_parent(
        self, make: Callable[[Tenant, PerParentQuery, ToNode], P], query: PerParentQuery, to_node: ToNode
    ) -> P:
        """The request's page loader of this kind for these page arguments, its connections'
        nodes made by ``to_node`` (one node type per kind of loader)."""
        key = (make, query.cache_key)
        loader = self._made.get(key)
        if loader is None:
            loader = self._made[key] = make(self._tenant, query, to_node)
        made: P = loader
        return made

    def at_field(self, info: StrawberryInfo[Any, Any], make: Callable[[], T]) -> T:
        """What ``make`` returns for the field of ``info``, made once per operation for every
        parent at that place of the query. A field's arguments and selection are those of its
        field nodes and the operation's variables, the same for each parent, so a nested
        connection's page query and its loader are worked out once, not once per parent (200
        contacts: 200 times). A websocket runs many operations on one context: an entry is
        used only by the operation it was made in (its variables, held, so that their id is
        not reused; the field nodes belong to that operation's document, alive as long). An
        exception from ``make`` is not kept: the next parent's call raises it again."""
        raw = info._raw_info
        key = tuple(map(id, raw.field_nodes))
        entry = self._at_field.get(key)
        if entry is None or entry[0] is not raw.variable_values:
            entry = self._at_field[key] = (raw.variable_values, make())
        made: T = entry[1]
        return made


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    services: Services
    principal: Principal
    loaders: Loaders = field(init=False)
    connection_params: dict[str, Any] | None = None  # a websocket's connection_init payload
    _memo: dict[str, asyncio.Future[Any]] = field(default_factory=dict, init=False)
    # (data, objects in it) of the last response the compiled executor answered (app/compiled)
    rendered_objects: tuple[dict[str, Any], int] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.tenant)

    def become(self, principal: Principal) -> None:
        """Authenticate a websocket connection after the fact (connection_init)."""
        self.principal = principal
        self.fresh()

    def fresh(self) -> None:
        """Forget everything loaded: a subscription calls it before each event it sends."""
        self.loaders = Loaders(self.tenant)
        self._memo = {}

    @property
    def account_id(self) -> str:
        return self.principal.account_id

    @property
    def db(self) -> Database:
        """The whole database: for the process-wide reads of ``app.process_wide`` only."""
        return self.services.db

    @property
    def tenant(self) -> Tenant:
        """The caller's account in the database: what every use case and repository takes."""
        return Tenant(self.principal.account_id, self.services.db)

    async def _once(self, name: str, make: Callable[[], Awaitable[T]]) -> T:
        """Run ``make`` at most once per request, however many resolvers ask."""
        future = self._memo.get(name)
        if future is None:
            future = self._memo[name] = asyncio.ensure_future(make())
        result: T = await future
        return result

    async def _configured(self, part: str, load: Callable[[], Awaitable[T]]) -> T:
        """Once per request, through the process's account configuration cache."""
        return await self._once(part, lambda: self.services.accounts.get(self.account_id, part, load))

    async def account(self) -> Document:
        async def load() -> Document:
            doc = await account_repository.get_account(self.tenant)
            # A key whose account was removed sees an empty account, never another's.
            return doc or {"_id": self.account_id, "primaryKey": "email", "secondaryKeys": []}

        return await self._configured("account", load)

    async def definitions(self) -> dict[str, AttributeDefinition]:
        return await self._configured("definitions", lambda: load_definitions(self.tenant))

    async def list_keys(self) -> set[str]:
        async def load() -> set[str]:
            return {d["key"] for d in await account_repository.list_lists(self.tenant)}

        return await self._configured("lists", load)

    def account_changed(self) -> None:
        """The account's configuration was just changed: read it afresh from now on."""
        self.services.accounts.forget(self.account_id)
        self._memo = {}

    async def config(self) -> AccountConfig:
        """Identifier keys, attribute definitions and lists: what a contact write checks."""

        async def load() -> AccountConfig:
            definitions = await self.definitions()
            return AccountConfig(await self.identifier_keys(), definitions, frozenset(await self.list_keys()))

        return await self._once("config", load)

    async def identifier_keys(self) -> IdentifierKeys:
        account = await self.account()
        keys = {account.get("primaryKey", "email"), *account.get("secondaryKeys", [])} - {"email"}
        definitions = await self.definitions() if keys else {}
        types = {k: definitions[k].type for k in keys if k in definitions}
        return IdentifierKeys.from_account(account, types)


Info = StrawberryInfo[Context, None]
"""What every resolver takes as ``info``: strawberry's Info with this Context."""
