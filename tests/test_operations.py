"""Operating the service: /healthz, /readyz (503 when the database is unreachable), request logs."""

from __future__ import annotations

import json
import logging
import time

import pytest

from app.embedded import EmbeddedMongo
from app.settings import Settings
from tests.conftest import Api, app_client


async def test_healthz_answers_without_a_key(api: Api) -> None:
    response = await api.http.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_200_when_the_database_answers(api: Api) -> None:
    response = await api.http.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_readyz_is_503_within_five_seconds_when_the_database_is_gone(db_name: str) -> None:
    server = EmbeddedMongo(None)
    server.start()
    settings = Settings(MONGODB_URI=server.uri, MONGODB_DB=db_name, CONTACTGRAPH_DB_SELECTION_TIMEOUT_MS=1000)
    async with app_client(settings) as http:
        assert (await http.get("/readyz")).status_code == 200
        server.stop()

        started = time.monotonic()
        response = await http.get("/readyz")
        elapsed = time.monotonic() - started

        assert response.status_code == 503
        assert response.json()["status"] == "database unreachable"
        assert elapsed < 5
        assert (await http.get("/healthz")).status_code == 200


async def test_every_request_gets_an_id_and_one_structured_log_line(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    key = await api.account("acme")
    caplog.set_level(logging.INFO, logger="contactgraph.request")

    response = await api.http.post(
        "/graphql", json={"query": "{ account { id } }"}, headers={"Authorization": f"Bearer {key}"}
    )
    echoed = await api.http.get("/healthz", headers={"X-Request-ID": "abc-123"})

    request_id = response.headers["x-request-id"]
    assert len(request_id) == 32
    assert echoed.headers["x-request-id"] == "abc-123"
    [line] = [r for r in caplog.records if getattr(r, "request_id", None) == request_id]
    assert (line.method, line.path, line.status, line.account) == ("POST", "/graphql", 200, "acme")  # type: ignore[attr-defined]
    assert line.duration_ms >= 0  # type: ignore[attr-defined]


def test_log_lines_are_json() -> None:
    from app.logs import JsonFormatter

    record = logging.LogRecord("contactgraph.request", logging.INFO, __file__, 1, "request", None, None)
    record.request_id = "r1"

    entry = json.loads(JsonFormatter().format(record))

    assert entry["msg"] == "request"
    assert entry["request_id"] == "r1"
    assert entry["level"] == "INFO"


async def test_a_database_fault_during_authentication_is_a_json_503_not_a_500(api: Api) -> None:
    from tests.conftest import FailPoint

    key = await api.account("acme")
    point = FailPoint(api.db)
    await point.fail(["find"], times=1)
    try:
        response = await api.post("{ account { id } }", key=key)
    finally:
        await point.off()

    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    assert (await api.post("{ account { id } }", key=key)).status_code == 200
