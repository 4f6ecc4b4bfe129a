"""Optional OpenTelemetry tracing: ``pip install 'contactgraph[otel]'`` and
``CONTACTGRAPH_OTEL=true``. Spans for every GraphQL operation and its resolvers
(strawberry's extension) and for every MongoDB command (the PyMongo instrumentation),
exported over OTLP/HTTP to ``OTEL_EXPORTER_OTLP_ENDPOINT`` when it is set. A tracer
provider configured by the host process (or a test) is used as it is."""

from __future__ import annotations

from typing import Any

from app.settings import Settings


def tracing_extensions(settings: Settings) -> list[Any]:
    """The schema extensions tracing needs (none when it is off); instruments PyMongo, so
    call it before the MongoDB client is created."""
    if not settings.otel:
        return []
    try:
        from opentelemetry import trace
        from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from strawberry.extensions.tracing import OpenTelemetryExtension
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "CONTACTGRAPH_OTEL=true needs the otel extra: pip install 'contactgraph[otel]'"
        ) from exc

    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider(resource=Resource.create({"service.name": settings.otel_service_name}))
        if settings.otel_endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otel_endpoint)))
        trace.set_tracer_provider(provider)
    instrumentor = PymongoInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument()
    return [OpenTelemetryExtension]
