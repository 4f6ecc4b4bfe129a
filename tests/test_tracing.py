"""Optional OpenTelemetry tracing (the otel extra): with CONTACTGRAPH_OTEL=true an operation
gives a server span with the operation's name, and its MongoDB commands give client spans."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from app.settings import Settings
from tests.conftest import Api, app_client, email_contact


async def test_operations_and_database_commands_become_spans(api: Api, settings: Settings) -> None:
    key = await api.account("acme")
    await api.contacts("acme", email_contact("a@example.com"))
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)  # the process's provider: the app uses it as it is
    traced = settings.model_copy(update={"otel": True})
    try:
        async with app_client(traced) as http:
            response = await http.post(
                "/graphql",
                json={"query": "query Everyone { contacts { totalCount edges { node { email } } } }"},
                headers={"Authorization": f"Bearer {key}"},
            )
            assert response.json()["data"]["contacts"]["totalCount"] == 1
    finally:
        PymongoInstrumentor().uninstrument()

    spans = exporter.get_finished_spans()
    [operation] = [s for s in spans if s.kind == SpanKind.SERVER]
    assert operation.name == "GraphQL Query: Everyone"
    database = [
        s
        for s in spans
        if s.kind == SpanKind.CLIENT and s.attributes and s.attributes.get("db.system") == "mongodb"
    ]
    assert {s.name.split(".")[-1] for s in database} >= {"find", "aggregate"}, [s.name for s in database]
