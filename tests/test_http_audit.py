"""The GraphQL-over-HTTP spec audit (npm graphql-http's ``serverAudits``, pinned by
tests/js/package-lock.json) against a running gateway: no audit may fail, and no
SHOULD may be left as a warning."""

from __future__ import annotations

from typing import Any

import orjson

from app.settings import Settings
from tests.conftest import Api
from tests.live import live_server
from tests.node import node_modules, run


async def test_the_graphql_over_http_audit_passes_without_warnings(api: Api, settings: Settings) -> None:
    key = await api.account("acme")
    await node_modules()

    async with live_server(settings) as base:
        out = await run("node", "audit.mjs", f"{base}/graphql", key)
    results: list[dict[str, Any]] = orjson.loads(out)
    by_status: dict[str, list[str]] = {}
    for result in results:
        by_status.setdefault(result["status"], []).append(f"{result['name']}: {result['reason']}")

    print(f"\ngraphql-http audit: { {status: len(names) for status, names in by_status.items()} }")
    assert len(results) >= 50
    assert by_status.get("error", []) == []
    assert by_status.get("warn", []) == []
    assert len(by_status["ok"]) == len(results)
