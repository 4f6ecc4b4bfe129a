"""Settings from the environment. Nothing else in the app reads ``os.environ``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings, SettingsConfigDict


def setting(
    variable: str, default: Any = PydanticUndefined, description: str | None = None, **options: Any
) -> Any:
    """A field read from the environment variable ``variable``."""
    return Field(default, alias=variable, description=description, **options)


class Settings(BaseSettings):
    """One object for every knob; each field maps to the environment variable in its alias."""

    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore")

    mongodb_uri: str | None = setting(
        "MONGODB_URI", None, "MongoDB replica set to use. Unset: start the embedded SecantusDB."
    )
    mongodb_db: str = setting("MONGODB_DB", "contactgraph")
    env: Literal["development", "production"] = setting("CONTACTGRAPH_ENV", "development")
    host: str = setting("CONTACTGRAPH_HOST", "127.0.0.1")
    port: int = setting("CONTACTGRAPH_PORT", 8000)
    data_dir: Path = setting(
        "CONTACTGRAPH_DATA_DIR",
        Path(".data"),
        "Where the embedded database keeps its store and the demo key.",
    )
    log_level: str = setting("CONTACTGRAPH_LOG_LEVEL", "INFO")
    server_selection_timeout_ms: int = setting("CONTACTGRAPH_DB_SELECTION_TIMEOUT_MS", 5000)
    max_time_ms: int = setting(
        "CONTACTGRAPH_DB_MAX_TIME_MS",
        15000,
        "maxTimeMS of every read a request runs (server time of one command).",
    )
    job_max_time_ms: int = setting(
        "CONTACTGRAPH_JOB_MAX_TIME_MS", 600_000, "maxTimeMS of a job's bulk reads (report and export scans)."
    )
    readiness_timeout_s: float = setting("CONTACTGRAPH_READINESS_TIMEOUT_S", 2.0)
    run_jobs: bool = setting(
        "CONTACTGRAPH_RUN_JOBS",
        True,
        "Run a job worker in the gateway process (off: only `contactgraph worker`s run jobs).",
    )
    job_lease_s: float = setting("CONTACTGRAPH_JOB_LEASE_S", 30.0)
    shutdown_drain_s: float = setting(
        "CONTACTGRAPH_SHUTDOWN_DRAIN_S",
        3.0,
        "On SIGTERM: report not-ready and keep serving this long before stopping.",
    )
    cors_origins: list[str] = setting(
        "CONTACTGRAPH_CORS_ORIGINS",
        description="Browser origins allowed to call the API (JSON list); none by default.",
        default_factory=list,
    )
    gc_threshold: int = setting(
        "CONTACTGRAPH_GC_THRESHOLD",
        50_000,
        "Allocations between young-generation garbage collections (Python's default "
        "is 700); at start-up the process's long-lived objects are also frozen out of the "
        "collector's scans. 0 keeps Python's defaults.",
    )
    account_cache_s: float = setting(
        "CONTACTGRAPH_ACCOUNT_CACHE_S",
        10.0,
        "Seconds a process reuses an account's keys, attributes and lists; 0: never.",
    )
    max_query_depth: int = setting("CONTACTGRAPH_MAX_QUERY_DEPTH", 12)
    max_aliases: int = setting("CONTACTGRAPH_MAX_ALIASES", 50)
    max_tokens: int = setting("CONTACTGRAPH_MAX_TOKENS", 5000)
    max_root_fields: int = setting("CONTACTGRAPH_MAX_ROOT_FIELDS", 20)
    compiled_execution: bool = setting(
        "CONTACTGRAPH_COMPILED_EXECUTION",
        True,
        "Run queries on compiled plans (app/compiled); false: graphql-core's executor only.",
    )
    max_query_cost: int = setting(
        "CONTACTGRAPH_MAX_QUERY_COST",
        25_000,
        "Largest requested cost (objects a response can hold) a single request may have.",
    )
    rate_limit_capacity: int = setting(
        "CONTACTGRAPH_RATE_LIMIT_CAPACITY",
        200_000,
        "Cost points an API key's budget holds, shared by every gateway replica.",
    )
    rate_limit_slice: float | None = setting(
        "CONTACTGRAPH_RATE_LIMIT_SLICE",
        None,
        "Points a replica leases from a key's shared budget at a time (default: capacity / 20).",
    )
    rate_limit_restore_rate: int = setting(
        "CONTACTGRAPH_RATE_LIMIT_RESTORE_RATE",
        50_000,
        "Points per second a key's bucket refills; 0 turns rate limiting off.",
    )
    persisted_queries: Literal["apq", "safelist", "off"] = setting(
        "CONTACTGRAPH_PERSISTED_QUERIES",
        "apq",
        "apq: automatic persisted queries; safelist: only the manifest's operations run.",
    )
    safelist_file: Path | None = setting(
        "CONTACTGRAPH_SAFELIST_FILE",
        None,
        "Apollo persisted query manifest for safelist mode (`contactgraph safelist` writes one).",
    )
    otel: bool = setting(
        "CONTACTGRAPH_OTEL",
        False,
        "OpenTelemetry spans for operations and database commands (needs the otel extra).",
    )
    otel_endpoint: str | None = setting(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        None,
        "OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces.",
    )
    otel_service_name: str = setting("OTEL_SERVICE_NAME", "contactgraph")
    metrics_token: SecretStr | None = setting(
        "CONTACTGRAPH_METRICS_TOKEN",
        None,
        "If set, /metrics answers only requests with 'Authorization: Bearer <this token>'.",
    )
    secrets_key: SecretStr | None = setting(
        "CONTACTGRAPH_SECRETS_KEY",
        None,
        "Fernet key(s), comma-separated (the first seals), for FTP/SFTP credentials of queued "
        "exports; every replica and worker needs the same. Unset: generated into the data dir in "
        "development, FTP/SFTP destinations refused in production.",
    )
    max_body_bytes: int = setting("CONTACTGRAPH_MAX_BODY_BYTES", 1_048_576)
    introspection: bool | None = setting(
        "CONTACTGRAPH_INTROSPECTION", None, "Default: on in development, off in production."
    )
    graphiql: bool | None = setting(
        "CONTACTGRAPH_GRAPHIQL", None, "Default: on in development, off in production."
    )

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else not self.is_production

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else not self.is_production

    @property
    def is_production(self) -> bool:
        return self.env == "production"
