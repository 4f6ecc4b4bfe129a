"""Test harness: ONE real MongoDB wire-protocol server per test session (SecantusDB as a
child process, or the replica set in MONGODB_URI), one database per test, the ASGI app
driven through httpx, and a PyMongo CommandListener that counts database commands."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from asgi_lifespan import LifespanManager
from bson import ObjectId
from pymongo import AsyncMongoClient
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent

from app.account.keys import create_api_key
from app.account.setup import create_account
from app.auth import ALL_SCOPES, ScopeName
from app.contacts import repository as contacts_repository
from app.db import DRIVER_COMMANDS, RATE_LIMITS, Database, Document
from app.embedded import EmbeddedMongo
from app.main import create_app
from app.settings import Settings
from app.tenant import Tenant


@pytest.fixture(scope="session")
def mongo_uri() -> Iterator[str]:
    configured = Settings().mongodb_uri
    if configured:
        yield configured
        return
    with EmbeddedMongo(None, test_commands=True) as server:
        yield server.uri


class CommandCounter(CommandListener):
    """Records the commands sent to one database on a request's behalf. Leases of the shared
    cost budget (``rateLimits``: one per slice of a key's budget, not per request, see
    app/ratelimit.py) are recorded apart, in ``leases``; tests/test_rate_limit.py counts them."""

    def __init__(self, db_name: str) -> None:
        self.db_name = db_name
        self.commands: list[tuple[str, Document]] = []
        self.leases = 0

    def started(self, event: CommandStartedEvent) -> None:
        if event.database_name != self.db_name or event.command_name in DRIVER_COMMANDS:
            return
        if event.command_name == "findAndModify" and event.command.get(event.command_name) == RATE_LIMITS:
            self.leases += 1
            return
        self.commands.append((event.command_name, dict(event.command)))

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass

    def reset(self) -> None:
        self.commands.clear()
        self.leases = 0

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.commands]


@dataclass
class Api:
    """The app under test, plus direct access to its database for givens and thens."""

    http: httpx.AsyncClient
    db: Database
    commands: CommandCounter
    keys: dict[str, str] = field(default_factory=dict)

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        key: str | None,
        operation_name: str | None = None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        body: dict[str, Any] = {"query": query, "variables": variables or {}}
        if operation_name is not None:
            body["operationName"] = operation_name
        return await self.http.post("/graphql", json=body, headers=headers)

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        key: str,
        operation_name: str | None = None,
    ) -> dict[str, Any]:
        response = await self.post(query, variables, key=key, operation_name=operation_name)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def ok(self, query: str, variables: dict[str, Any] | None = None, *, key: str) -> dict[str, Any]:
        """The data of a request that must succeed without errors."""
        body = await self.gql(query, variables, key=key)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def account(
        self,
        account_id: str,
        scopes: frozenset[ScopeName] = ALL_SCOPES,
        *,
        secondary_keys: tuple[str, ...] = (),
        primary_key: str = "email",
    ) -> str:
        """Create an account (if new) and return a new key for it."""
        from app.account.repository import get_account

        if (
            await get_account(
                Tenant(account_id, self.db),
            )
            is None
        ):
            await create_account(
                self.db, account_id, account_id, primary_key=primary_key, secondary_keys=secondary_keys
            )
        key, _ = await create_api_key(Tenant(account_id, self.db), "test", scopes)
        return key

    async def exported_profile(self, ref: str, *, key: str) -> dict[str, Any]:
        """contactProfileExport(ref) run by a worker, and the JSON file it made."""
        from app.jobs.handlers import HANDLERS
        from app.jobs.runner import JobRunner

        created = await self.ok(
            f'mutation {{ contactProfileExport(ref: "{ref}") {{ job {{ id }} }} }}', key=key
        )
        await JobRunner(self.db, HANDLERS, owner="test-worker").run_once()
        job_id = created["contactProfileExport"]["job"]["id"]
        done = await self.ok("query($id: ID!) { job(id: $id) { state resultUrl } }", {"id": job_id}, key=key)
        assert done["job"]["state"] == "COMPLETED", done
        url = done["job"]["resultUrl"].replace("http://test", "")
        response = await self.http.get(url, headers={"Authorization": f"Bearer {key}"})
        profile: dict[str, Any] = orjson.loads(response.content)
        return profile

    async def contacts(self, account_id: str, *docs: Document) -> list[ObjectId]:
        now = datetime.now(UTC)
        full = [
            {"createdAt": now, "lastModified": now, "version": 1, "lists": [], "attributes": {}, **d}
            for d in docs
        ]
        return await contacts_repository.insert_many(Tenant(account_id, self.db), full)


def email_contact(address: str, **extra: Any) -> Document:
    return {"channels": {"email": {"address": address, "subscribeStatus": "none", "invalid": False}}, **extra}


@asynccontextmanager
async def app_client(
    settings: Settings, *, key: str | None = None, listeners: Sequence[CommandListener] = ()
) -> AsyncIterator[httpx.AsyncClient]:
    """An app of its own built from ``settings`` (started, then stopped) and an HTTP client
    on it; with ``key``, every request carries it."""
    app = create_app(settings, mongo_listeners=listeners)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://t") as http,
    ):
        if key is not None:
            http.headers["Authorization"] = f"Bearer {key}"
        yield http


@pytest.fixture
def db_name() -> str:
    return f"cgtest_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def settings(mongo_uri: str, db_name: str, tmp_path: Path) -> Settings:
    # No background job worker: tests that need one run it themselves (deterministic
    # command counts elsewhere). A data dir of its own: never the developer's .data. No
    # account configuration cache: tests change accounts directly in the database, as
    # another replica would; tests/account/test_config_cache.py covers the cache.
    return Settings(
        MONGODB_URI=mongo_uri,
        MONGODB_DB=db_name,
        CONTACTGRAPH_RUN_JOBS=False,
        CONTACTGRAPH_DATA_DIR=tmp_path,
        CONTACTGRAPH_ACCOUNT_CACHE_S=0,
    )


@pytest.fixture
async def api(settings: Settings, db_name: str) -> AsyncIterator[Api]:
    counter = CommandCounter(db_name)
    app = create_app(settings, mongo_listeners=[counter])
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://test") as http,
    ):
        yield Api(http=http, db=app.state.services.db, commands=counter)
    client: AsyncMongoClient[Document] = AsyncMongoClient(settings.mongodb_uri)
    try:
        await client.drop_database(db_name)
    finally:
        await client.close()


class FailPoint:
    """configureFailPoint on the test server (SecantusDB runs with test commands enabled)."""

    def __init__(self, db: Database) -> None:
        self.admin = db.client.admin

    async def fail(self, commands: list[str], *, skip: int = 0, times: int = 1, **data: Any) -> None:
        mode: dict[str, int] = {"skip": skip} if skip else {"times": times}
        await self.admin.command(
            {
                "configureFailPoint": "failCommand",
                "mode": mode,
                "data": {"failCommands": commands, "errorCode": 2, **data},
            }
        )

    async def off(self) -> None:
        await self.admin.command({"configureFailPoint": "failCommand", "mode": "off"})


@pytest.fixture
async def failpoint(api: Api) -> AsyncIterator[FailPoint]:
    point = FailPoint(api.db)
    try:
        yield point
    finally:
        await point.off()
