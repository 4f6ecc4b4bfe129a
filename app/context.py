"""The per-request Context: who is calling, the database, loaders, account configuration.

Everything here lives for one request: loaders never cache across requests or accounts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pymongo import AsyncMongoClient
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from app.account import repository as account_repository
from app.account.attributes import AttributeDefinition, load_definitions
from app.account.config import AccountConfig
from app.activities.loaders import ActivitiesByContactLoader, MessageByIdLoader
from app.auth import Principal, PrincipalCache
from app.commerce.loaders import OrdersByContactLoader
from app.connection import PageByParentLoader
from app.contacts.loaders import ContactByIdLoader
from app.contacts.refs import IdentifierKeys
from app.db import Database, Document
from app.pagination import PerParentQuery
from app.settings import Settings

T = TypeVar("T")


@dataclass
class Services:
    """Process-wide resources, built once by the app's lifespan."""

    settings: Settings
    client: AsyncMongoClient[Document]
    db: Database
    shutting_down: bool = False
    principals: PrincipalCache = field(default_factory=PrincipalCache)


class Loaders:
    """DataLoaders of one request. Nested connections get one loader per distinct set of
    arguments, so every parent at a level shares one batched database command."""

    def __init__(self, account_id: str, db: Database) -> None:
        self._account_id = account_id
        self._db = db
        self.contact_by_id = ContactByIdLoader(account_id, db)
        self.message_by_id = MessageByIdLoader(account_id, db)
        self._pages: dict[tuple[str, Any], PageByParentLoader] = {}

    def activities_by_contact(self, query: PerParentQuery) -> PageByParentLoader:
        return self._page_loader("activities", query, ActivitiesByContactLoader)

    def orders_by_contact(self, query: PerParentQuery) -> PageByParentLoader:
        return self._page_loader("orders", query, OrdersByContactLoader)

    def _page_loader(
        self,
        kind: str,
        query: PerParentQuery,
        make: Callable[[str, Database, PerParentQuery], PageByParentLoader],
    ) -> PageByParentLoader:
        key = (kind, query.cache_key)
        loader = self._pages.get(key)
        if loader is None:
            loader = self._pages[key] = make(self._account_id, self._db, query)
        return loader


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    services: Services
    principal: Principal
    loaders: Loaders = field(init=False)
    connection_params: dict[str, Any] | None = None  # a websocket's connection_init payload
    _memo: dict[str, asyncio.Future[Any]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.principal.account_id, self.services.db)

    def become(self, principal: Principal) -> None:
        """Authenticate a websocket connection after the fact (connection_init)."""
        self.principal = principal
        self.fresh()

    def fresh(self) -> None:
        """Forget everything loaded: a subscription calls it before each event it sends."""
        self.loaders = Loaders(self.principal.account_id, self.services.db)
        self._memo = {}

    @property
    def account_id(self) -> str:
        return self.principal.account_id

    @property
    def db(self) -> Database:
        return self.services.db

    async def _once(self, name: str, make: Callable[[], Awaitable[T]]) -> T:
        """Run ``make`` at most once per request, however many resolvers ask."""
        future = self._memo.get(name)
        if future is None:
            future = self._memo[name] = asyncio.ensure_future(make())
        result: T = await future
        return result

    async def account(self) -> Document:
        async def load() -> Document:
            doc = await account_repository.get_account(self.account_id, self.db)
            # A key whose account was removed sees an empty account, never another's.
            return doc or {"_id": self.account_id, "primaryKey": "email", "secondaryKeys": []}

        return await self._once("account", load)

    async def definitions(self) -> dict[str, AttributeDefinition]:
        return await self._once("definitions", lambda: load_definitions(self.account_id, self.db))

    async def list_keys(self) -> set[str]:
        async def load() -> set[str]:
            return {d["key"] for d in await account_repository.list_lists(self.account_id, self.db)}

        return await self._once("lists", load)

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
