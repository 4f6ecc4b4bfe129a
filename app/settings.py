"""Settings from the environment. Nothing else in the app reads ``os.environ``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """One object for every knob; each field maps to the environment variable in its alias."""

    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore")

    mongodb_uri: str | None = Field(
        default=None,
        alias="MONGODB_URI",
        description="MongoDB replica set to use. Unset: start the embedded SecantusDB.",
    )
    mongodb_db: str = Field(default="contactgraph", alias="MONGODB_DB")
    env: Literal["development", "production"] = Field(default="development", alias="CONTACTGRAPH_ENV")
    host: str = Field(default="127.0.0.1", alias="CONTACTGRAPH_HOST")
    port: int = Field(default=8000, alias="CONTACTGRAPH_PORT")
    data_dir: Path = Field(
        default=Path(".data"),
        alias="CONTACTGRAPH_DATA_DIR",
        description="Where the embedded database keeps its store and the demo key.",
    )
    log_level: str = Field(default="INFO", alias="CONTACTGRAPH_LOG_LEVEL")
    server_selection_timeout_ms: int = Field(default=5000, alias="CONTACTGRAPH_DB_SELECTION_TIMEOUT_MS")
    max_time_ms: int = Field(
        default=15000,
        alias="CONTACTGRAPH_DB_MAX_TIME_MS",
        description="maxTimeMS of every read a request runs (server time of one command).",
    )
    job_max_time_ms: int = Field(
        default=600_000,
        alias="CONTACTGRAPH_JOB_MAX_TIME_MS",
        description="maxTimeMS of a job's bulk reads (report and export scans).",
    )
    readiness_timeout_s: float = Field(default=2.0, alias="CONTACTGRAPH_READINESS_TIMEOUT_S")
    run_jobs: bool = Field(
        default=True,
        alias="CONTACTGRAPH_RUN_JOBS",
        description="Run a job worker in the gateway process (off: only `contactgraph worker`s run jobs).",
    )
    job_lease_s: float = Field(default=30.0, alias="CONTACTGRAPH_JOB_LEASE_S")
    shutdown_drain_s: float = Field(
        default=3.0,
        alias="CONTACTGRAPH_SHUTDOWN_DRAIN_S",
        description="On SIGTERM: report not-ready and keep serving this long before stopping.",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        alias="CONTACTGRAPH_CORS_ORIGINS",
        description="Browser origins allowed to call the API (JSON list); none by default.",
    )
    gc_threshold: int = Field(
        default=10_000,
        alias="CONTACTGRAPH_GC_THRESHOLD",
        description="Allocations between young-generation garbage collections (Python's default "
        "is 700); at start-up the process's long-lived objects are also frozen out of the "
        "collector's scans. 0 keeps Python's defaults.",
    )
    account_cache_s: float = Field(
        default=10.0,
        alias="CONTACTGRAPH_ACCOUNT_CACHE_S",
        description="Seconds a process reuses an account's keys, attributes and lists; 0: never.",
    )
    max_query_depth: int = Field(default=12, alias="CONTACTGRAPH_MAX_QUERY_DEPTH")
    max_aliases: int = Field(default=50, alias="CONTACTGRAPH_MAX_ALIASES")
    max_tokens: int = Field(default=5000, alias="CONTACTGRAPH_MAX_TOKENS")
    max_root_fields: int = Field(default=20, alias="CONTACTGRAPH_MAX_ROOT_FIELDS")
    compiled_execution: bool = Field(
        default=True,
        alias="CONTACTGRAPH_COMPILED_EXECUTION",
        description="Run queries on compiled plans (app/compiled); false: graphql-core's executor only.",
    )
    max_query_cost: int = Field(
        default=25_000,
        alias="CONTACTGRAPH_MAX_QUERY_COST",
        description="Largest requested cost (objects a response can hold) a single request may have.",
    )
    rate_limit_capacity: int = Field(
        default=200_000,
        alias="CONTACTGRAPH_RATE_LIMIT_CAPACITY",
        description="Cost points an API key's budget holds, shared by every gateway replica.",
    )
    rate_limit_slice: float | None = Field(
        default=None,
        alias="CONTACTGRAPH_RATE_LIMIT_SLICE",
        description="Points a replica leases from a key's shared budget at a time (default: capacity / 20).",
    )
    rate_limit_restore_rate: int = Field(
        default=50_000,
        alias="CONTACTGRAPH_RATE_LIMIT_RESTORE_RATE",
        description="Points per second a key's bucket refills; 0 turns rate limiting off.",
    )
    persisted_queries: Literal["apq", "safelist", "off"] = Field(
        default="apq",
        alias="CONTACTGRAPH_PERSISTED_QUERIES",
        description="apq: automatic persisted queries; safelist: only the manifest's operations run.",
    )
    safelist_file: Path | None = Field(
        default=None,
        alias="CONTACTGRAPH_SAFELIST_FILE",
        description="Apollo persisted query manifest for safelist mode (`contactgraph safelist` writes one).",
    )
    otel: bool = Field(
        default=False,
        alias="CONTACTGRAPH_OTEL",
        description="OpenTelemetry spans for operations and database commands (needs the otel extra).",
    )
    otel_endpoint: str | None = Field(
        default=None,
        alias="OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        description="OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces.",
    )
    otel_service_name: str = Field(default="contactgraph", alias="OTEL_SERVICE_NAME")
    metrics_token: SecretStr | None = Field(
        default=None,
        alias="CONTACTGRAPH_METRICS_TOKEN",
        description="If set, /metrics answers only requests with 'Authorization: Bearer <this token>'.",
    )
    secrets_key: SecretStr | None = Field(
        default=None,
        alias="CONTACTGRAPH_SECRETS_KEY",
        description="Fernet key(s), comma-separated (the first seals), for FTP/SFTP credentials of queued "
        "exports; every replica and worker needs the same. Unset: generated into the data dir in "
        "development, FTP/SFTP destinations refused in production.",
    )
    max_body_bytes: int = Field(default=1_048_576, alias="CONTACTGRAPH_MAX_BODY_BYTES")
    introspection: bool | None = Field(
        default=None,
        alias="CONTACTGRAPH_INTROSPECTION",
        description="Default: on in development, off in production.",
    )
    graphiql: bool | None = Field(
        default=None,
        alias="CONTACTGRAPH_GRAPHIQL",
        description="Default: on in development, off in production.",
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
