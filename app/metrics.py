"""Prometheus metrics, served at ``/metrics``: GraphQL operations (count and latency by
operation name, type and outcome), database commands (count and latency by command), and
the job queue (jobs by state, counted when scraped).

Metrics live in one registry per process. With ``serve --workers N`` each worker keeps its
own; scrape them one by one (or run one worker per container, the usual deployment).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.extensions import SchemaExtension

from app import process_wide
from app.auth import key_from_authorization
from app.jobs import repository as jobs

REGISTRY = CollectorRegistry()
OPERATIONS = Counter(
    "contactgraph_graphql_operations",
    "GraphQL operations by operation name, type and outcome (ok or error)",
    ["operation", "type", "outcome"],
    registry=REGISTRY,
)
OPERATION_SECONDS = Histogram(
    "contactgraph_graphql_operation_duration_seconds",
    "Time to answer a GraphQL query or mutation, by operation name and type",
    ["operation", "type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
DB_COMMANDS = Counter(
    "contactgraph_db_commands",
    "MongoDB commands by command name and outcome",
    ["command", "outcome"],
    registry=REGISTRY,
)
DB_SECONDS = Histogram(
    "contactgraph_db_command_duration_seconds",
    "MongoDB command round trips by command name",
    ["command"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
    registry=REGISTRY,
)
EXECUTIONS = Counter(
    "contactgraph_graphql_executions",
    "Executed operations by executor path: compiled (a planned query), fallback (a compiled "
    "attempt handed to the standard executor, e.g. to report an error) or standard",
    ["path"],
    registry=REGISTRY,
)
JOBS = Gauge(
    "contactgraph_jobs", "Jobs by state (all accounts), read when scraped", ["state"], registry=REGISTRY
)

# Operation names come from clients: past this many distinct names, new ones count as "other".
MAX_OPERATION_NAMES = 500
_names: set[str] = set()


def operation_label(name: str | None) -> str:
    if not name:
        return "anonymous"
    if name in _names:
        return name
    if len(_names) >= MAX_OPERATION_NAMES:
        return "other"
    _names.add(name)
    return name


class OperationMetrics(SchemaExtension):
    """Counts and times each operation; also hands its name to the request log."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        ctx = self.execution_context
        name = operation_label(ctx.operation_name)
        try:
            kind = ctx.operation_type.value
        except Exception:  # no parsable operation: the request failed before
            kind = "unknown"
        errors = ctx.pre_execution_errors or (ctx.result.errors if ctx.result else None)
        OPERATIONS.labels(name, kind, "error" if errors else "ok").inc()
        if kind != "subscription":  # a subscription lasts as long as its client
            OPERATION_SECONDS.labels(name, kind).observe(time.perf_counter() - started)
        request = getattr(ctx.context, "request", None)
        state = (getattr(request, "scope", None) or {}).get("state")
        if isinstance(state, dict):
            state["operation"] = ctx.operation_name


class DatabaseMetrics(CommandListener):
    def started(self, event: CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: CommandSucceededEvent) -> None:
        DB_COMMANDS.labels(event.command_name, "ok").inc()
        DB_SECONDS.labels(event.command_name).observe(event.duration_micros / 1e6)

    def failed(self, event: CommandFailedEvent) -> None:
        DB_COMMANDS.labels(event.command_name, "error").inc()
        DB_SECONDS.labels(event.command_name).observe(event.duration_micros / 1e6)


async def metrics(request: Request) -> Response:
    """Prometheus metrics. With CONTACTGRAPH_METRICS_TOKEN set, a scrape must send it as
    ``Authorization: Bearer <token>`` (operation names are every tenant's)."""
    services = request.app.state.services
    token = services.settings.metrics_token
    if token is not None:
        sent = key_from_authorization(request.headers.get("authorization")) or ""
        if not hmac.compare_digest(sent.encode(), token.get_secret_value().encode()):
            error = {
                "message": "Send the metrics token as a bearer token",
                "extensions": {"code": "UNAUTHENTICATED"},
            }
            return JSONResponse({"errors": [error]}, status_code=401)
    try:
        counts = await process_wide.count_jobs_by_state(services.db)
    except Exception:  # the database is down: /readyz says so; serve the rest
        counts = None
    if counts is not None:
        for state in jobs.STATES:
            JOBS.labels(state).set(counts.get(state, 0))
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
