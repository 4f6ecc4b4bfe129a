"""The GraphQL-over-HTTP spec audit (npm graphql-http's ``serverAudits``, pinned by
tests/http_audit/package-lock.json) against a running gateway: no audit may fail, and no
SHOULD may be left as a warning."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest

from app.settings import Settings
from tests.conftest import Api
from tests.live import live_server

AUDIT = Path(__file__).parent / "http_audit"


async def _run(*command: str, cwd: Path) -> bytes:
    process = await asyncio.create_subprocess_exec(
        *command, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 300)
    assert process.returncode == 0, f"{' '.join(command)}: {err.decode()[-2000:]}"
    return out


@pytest.fixture(scope="module")
def npm() -> str:
    found = shutil.which("npm")
    assert found, "the HTTP audit needs Node.js and npm: run `make browser`"
    assert shutil.which("node"), "the HTTP audit needs Node.js and npm: run `make browser`"
    return found


async def test_the_graphql_over_http_audit_passes_without_warnings(
    api: Api, settings: Settings, npm: str
) -> None:
    key = await api.account("acme")
    lock = AUDIT / "package-lock.json"
    installed = AUDIT / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        await _run(npm, "ci", "--no-audit", "--no-fund", "--silent", cwd=AUDIT)

    async with live_server(settings) as base:
        out = await _run("node", "audit.mjs", f"{base}/graphql", key, cwd=AUDIT)
    results: list[dict[str, Any]] = orjson.loads(out)
    by_status: dict[str, list[str]] = {}
    for result in results:
        by_status.setdefault(result["status"], []).append(f"{result['name']}: {result['reason']}")

    print(f"\ngraphql-http audit: { {status: len(names) for status, names in by_status.items()} }")
    assert len(results) >= 50
    assert by_status.get("error", []) == []
    assert by_status.get("warn", []) == []
    assert len(by_status["ok"]) == len(results)
