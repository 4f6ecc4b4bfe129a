"""Faults and edges of the HTTP surface: a database outage (fail fast, masked, recover
without a restart), SIGTERM under load, CORS and cross-site requests."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import httpx

from app.account.keys import create_api_key
from app.account.setup import create_account
from app.auth import ALL_SCOPES
from app.db import connect
from app.embedded import EmbeddedMongo
from app.settings import Settings
from app.tenant import Tenant
from tests.conftest import Api, app_client
from tests.live import free_port

ROOT = Path(__file__).parent.parent
QUERY = {"query": "{ contacts(first: 1) { totalCount } }"}


async def test_a_database_outage_fails_fast_masked_and_recovers_without_a_restart(
    tmp_path: Path, db_name: str
) -> None:
    server = EmbeddedMongo(tmp_path / "db")
    server.start()
    settings = Settings(MONGODB_URI=server.uri, MONGODB_DB=db_name, CONTACTGRAPH_ENV="production",
                        CONTACTGRAPH_RUN_JOBS=False, CONTACTGRAPH_DB_SELECTION_TIMEOUT_MS=1000)  # fmt: skip
    setup = connect(settings)
    await create_account(setup[db_name], "acme", "Acme")
    key, _ = await create_api_key(Tenant("acme", setup[db_name]), "k", ALL_SCOPES)
    await setup.close()
    try:
        async with app_client(settings, key=key) as http:
            assert (await http.post("/graphql", json=QUERY)).json()["data"] == {"contacts": {"totalCount": 0}}
            server.stop()

            started = time.monotonic()
            down = await http.post("/graphql", json=QUERY)
            ready = await http.get("/readyz")
            elapsed = time.monotonic() - started

            restarted = EmbeddedMongo(tmp_path / "db", port=server.port)
            restarted.start()
            try:
                recovered = None
                for _ in range(50):
                    recovered = await http.post("/graphql", json=QUERY)
                    if "errors" not in recovered.json():
                        break
                    await asyncio.sleep(0.2)
            finally:
                restarted.stop()
    finally:
        server.stop()

    assert elapsed < 5
    assert down.status_code == 200
    assert down.json()["errors"][0]["extensions"]["code"] == "INTERNAL_ERROR"
    assert down.json()["errors"][0]["message"].startswith("Unexpected error; request id ")
    assert ready.status_code == 503
    assert recovered is not None
    assert recovered.json()["data"] == {"contacts": {"totalCount": 0}}


async def test_sigterm_under_load_drops_no_in_flight_request(api: Api, settings: Settings) -> None:
    """The server drains (readyz 503, still serving) before stopping: all 40 are answered."""
    key = await api.account("acme")
    port = free_port()
    env = {**os.environ, "MONGODB_URI": str(settings.mongodb_uri), "MONGODB_DB": settings.mongodb_db,
           "CONTACTGRAPH_PORT": str(port), "CONTACTGRAPH_RUN_JOBS": "false"}  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.cli", "serve", env=env, cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(
            base_url=base, timeout=30, headers={"Authorization": f"Bearer {key}"}
        ) as http:
            for _ in range(200):
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            requests = [asyncio.create_task(http.post("/graphql", json=QUERY)) for _ in range(40)]
            await asyncio.sleep(0.05)
            process.send_signal(signal.SIGTERM)
            responses = await asyncio.gather(*requests, return_exceptions=True)
        code = await asyncio.wait_for(process.wait(), 30)
    finally:
        if process.returncode is None:
            process.kill()

    answered = [r for r in responses if isinstance(r, httpx.Response)]
    assert len(answered) == 40, [r for r in responses if not isinstance(r, httpx.Response)]
    assert all(r.status_code == 200 and "errors" not in r.json() for r in answered)
    assert code == 0


async def test_cors_only_for_configured_origins_and_no_cross_site_form_posts(
    api: Api, settings: Settings
) -> None:
    key = await api.account("acme")
    async with app_client(settings.model_copy(update={"cors_origins": ["https://app.example.com"]})) as http:

        def preflight(origin: str) -> dict[str, str]:
            return {
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            }

        allowed = await http.options("/graphql", headers=preflight("https://app.example.com"))
        other = await http.options("/graphql", headers=preflight("https://evil.example.net"))
        form = await http.post(
            "/graphql",
            content="query={account{id}}",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-www-form-urlencoded"},
        )
        text = await http.post(
            "/graphql",
            content='{"query": "{ account { id } }"}',
            headers={"Authorization": f"Bearer {key}", "Content-Type": "text/plain"},
        )

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "access-control-allow-origin" not in other.headers
    assert form.status_code == 415  # a form post is no GraphQL request (and no CSRF vector)
    assert text.status_code == 415  # Unsupported Media Type
