"""/metrics (Prometheus): operations by name, type and outcome, their latency, database
commands, the job queue; and the request log line names the operation."""

from __future__ import annotations

import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.jobs import repository as jobs
from app.tenant import Tenant
from tests.conftest import Api


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_count_operations_commands_and_queued_jobs(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    key = await api.account("acme")
    await jobs.insert(Tenant("acme", api.db), "profile_export", {}, None)
    before = samples((await api.http.get("/metrics")).text)
    caplog.set_level(logging.INFO, logger="contactgraph.request")

    await api.ok("query CountThem { contacts { totalCount } }", key=key)
    await api.ok("query CountThem { contacts { totalCount } }", key=key)
    await api.gql('query Broken { contact(ref: "") { cID } }', key=key)
    response = await api.http.get("/metrics")  # no key needed, like /healthz

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = samples(response.text)

    def delta(name: str, **labels: str) -> float:
        key_ = (name, frozenset(labels.items()))
        return after.get(key_, 0.0) - before.get(key_, 0.0)

    ok = {"operation": "CountThem", "type": "query"}
    assert delta("contactgraph_graphql_operations_total", **ok, outcome="ok") == 2
    assert (
        delta("contactgraph_graphql_operations_total", operation="Broken", type="query", outcome="error") == 1
    )
    assert delta("contactgraph_graphql_operation_duration_seconds_count", **ok) == 2
    assert delta("contactgraph_db_commands_total", command="aggregate", outcome="ok") >= 2
    assert delta("contactgraph_db_command_duration_seconds_count", command="aggregate") >= 2
    assert after[("contactgraph_jobs", frozenset({("state", "INITIALIZED")}))] == 1
    assert after[("contactgraph_jobs", frozenset({("state", "COMPLETED")}))] == 0
    logged = [
        r for r in caplog.records if r.getMessage() == "request" and getattr(r, "path", "") == "/graphql"
    ]
    assert [getattr(r, "operation", None) for r in logged] == ["CountThem", "CountThem", "Broken"]


def test_operation_names_are_capped() -> None:
    from app import metrics

    saved = set(metrics._names)
    try:
        metrics._names.clear()
        names = [metrics.operation_label(f"op{i}") for i in range(metrics.MAX_OPERATION_NAMES + 3)]
        assert names[-3:] == ["other"] * 3
        assert metrics.operation_label("op0") == "op0"
        assert metrics.operation_label(None) == "anonymous"
    finally:
        metrics._names.clear()
        metrics._names.update(saved)
