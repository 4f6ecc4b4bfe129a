"""create_app(): the only place the application is assembled."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

import orjson
from cross_web import HTTPException
from pymongo.monitoring import CommandListener
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from app import db as database
from app import graphiql, http
from app.account.keys import authenticate
from app.auth import ANONYMOUS, ApiKeyMiddleware, Authenticator, Principal, hash_key, key_from_authorization
from app.contacts import repository as contacts_repository
from app.context import Context, Services
from app.jobs.handlers import HANDLERS
from app.jobs.routes import ROUTES as DOWNLOAD_ROUTES
from app.jobs.runner import JobRunner
from app.limits import BodyLimitMiddleware
from app.logs import RequestLogMiddleware
from app.metrics import DatabaseMetrics, metrics
from app.schema import build_schema
from app.settings import Settings
from app.tenant import Tenant

log = logging.getLogger(__name__)
ACCEPT: UnsetType = UNSET  # connection_ack without a payload


class TextFrames(ASGIWebSocketAdapter):
    """graphql-transport-ws messages are text frames (clients such as gql refuse binary
    ones), while HTTP bodies stay orjson bytes."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc

    async def close(self, code: int, reason: str) -> None:
        # strawberry closes a refused connection_init with 4403 "Forbidden", which graphql-ws
        # retries forever; a refused key is 4401 (not retried) with the reason itself.
        rejection = self.ws.scope.get("state", {}).get(REJECTION)
        if code == 4403 and rejection:
            code, reason = 4401, rejection
        await super().close(code, reason)


REJECTION = "contactgraph.ws_rejection"  # why on_ws_connect refused, for TextFrames.close
SUB_RESPONSE = "contactgraph.sub_response"  # the request's sub-response, for process_result


class GraphQLView(GraphQL[Context, None]):
    websocket_adapter_class = TextFrames

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.run(request)
        except HTTPException as exc:
            status = 415 if exc.reason == "Unsupported content type" else exc.status_code
            media_type = http.response_media_type(request.headers.get("accept"))
            headers = {"Allow": "POST"} if status == 405 else None
            response = http.error_response(status, exc.reason, media_type, headers)
        await response(scope, receive, send)

    async def execute_single(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().execute_single(*args, **kwargs)
        except HTTPException as exc:
            if isinstance(exc.__cause__, InvalidOperationTypeError):  # a mutation over GET
                raise HTTPException(405, exc.reason) from exc
            raise

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = http.response_media_type(request.headers.get("accept"))
        request.scope.setdefault("state", {})[SUB_RESPONSE] = sub_response
        return sub_response

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        if result.errors and http.is_request_error(response):
            response = http.as_request_error(response, result.errors)
            sub_response = request.scope.get("state", {}).get(SUB_RESPONSE)
            if sub_response is not None and sub_response.media_type == http.GRAPHQL_RESPONSE:
                sub_response.status_code = 400
        return response

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        if sub_response.media_type == http.GRAPHQL_RESPONSE:
            response.headers["content-type"] = f"{http.GRAPHQL_RESPONSE}; charset=utf-8"
        return response

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        return Context(
            request=request,
            response=response,
            services=request.app.state.services,
            principal=request.scope.get("state", {}).get("principal", ANONYMOUS),
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        services: Services = request.app.state.services
        key = graphiql.demo_key(services.settings)
        # The examples' variables: emails of three demo contacts (a placeholder if none).
        refs = await contacts_repository.some_emails(Tenant("demo", services.db), 3) if key else []
        return HTMLResponse(graphiql.page(key, refs))

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET with only a persisted query's hash is a query, not a visit to GraphiQL.
        return "extensions" not in request.query_params and super().should_render_graphql_ide(request)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)  # its JSONDecodeError is json's, which strawberry handles

    def parse_json(self, data: str | bytes) -> Any:
        """An HTTP body: a JSON object (or an array, which the batch check refuses)."""
        decoded = super().parse_json(data)
        if not isinstance(decoded, dict | list):
            raise HTTPException(400, "The request body must be a JSON object")
        return decoded

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """A websocket authenticated by header is accepted; otherwise its connection_init
        payload must carry {"Authorization": "Bearer <key>"} (or "Basic ...")."""
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        key = key_from_authorization(header) if isinstance(header, str) else None
        if context.principal is not ANONYMOUS:
            if key is not None and key != key_from_authorization(
                context.request.headers.get("authorization")
            ):
                raise _rejected(context, "Two different API keys (header and connection_init): send one")
            return ACCEPT
        principal = await authenticate(context.db, key) if key else None
        if principal is None:
            raise _rejected(context, "Missing or unknown API key")
        context.become(principal)
        return ACCEPT


def _rejected(context: Context, why: str) -> ConnectionRejectionError:
    context.request.scope.setdefault("state", {})[REJECTION] = why
    return ConnectionRejectionError({"message": why})


def _authenticator(scope: Scope) -> Authenticator:
    services: Services = scope["app"].state.services

    async def check(key: str) -> Principal | None:
        key_hash = hash_key(key)
        principal = services.principals.get(key_hash)
        if principal is None:
            principal = await authenticate(services.db, key)
            if principal is not None:
                services.principals.put(key_hash, principal)
        return principal

    return check


# A small graph: served for /favicon.ico (browsers accept SVG there), so no visit logs a 404.
FAVICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><g fill="#e10098">'
    b'<circle cx="16" cy="6" r="4"/><circle cx="6" cy="24" r="4"/><circle cx="26" cy="24" r="4"/></g>'
    b'<path d="M16 6 6 24h20z" fill="none" stroke="#e10098" stroke-width="2"/></svg>'
)


async def favicon(request: Request) -> Response:
    return Response(FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    services: Services = request.app.state.services
    if services.shutting_down:
        return JSONResponse({"status": "shutting down"}, status_code=503)
    try:
        await asyncio.wait_for(
            services.client.admin.command("ping"), timeout=services.settings.readiness_timeout_s
        )
    except Exception as exc:  # any failure to answer means not ready
        return JSONResponse({"status": "database unreachable", "error": type(exc).__name__}, status_code=503)
    return JSONResponse({"status": "ready"})


def _cors(settings: Settings) -> list[Middleware]:
    """CORS for the configured origins only. With JSON bodies (the only kind accepted) a
    cross-site POST always needs a preflight, which other origins do not pass: no CSRF."""
    if not settings.cors_origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
            max_age=600,
        )
    ]


async def _stop_worker(worker: asyncio.Task[None], wait_s: float) -> None:
    """Let the stopping worker hand its job back at its next progress write; one that does
    not within ``wait_s`` is cancelled (its lease then runs out and another worker retakes
    the job)."""
    try:
        await asyncio.wait_for(asyncio.shield(worker), wait_s)
    except TimeoutError:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


_gc_tuned = False


def _tune_gc(threshold: int) -> None:
    """Make garbage collection cheap for a request-serving process, once per process.

    A Q2 request (50 contacts) allocates ~10^5 short-lived objects; with Python's default
    threshold (700) it triggered ~17 young and ~1.5 middle-generation collections, and the
    full ones walked every object built at start-up (the schema, graphql-core's and
    strawberry's types, compiled plans). Freezing what exists once started moves those out of
    every scan, and a young threshold of 10,000 collected 15x less often: measured on Q2, 87 ->
    62 ms of CPU per request (no collection at all: 57 ms). At 200 contacts a request builds
    several times 10,000 objects, and the middle-generation collections that followed cost
    ~9 ms a request; 50,000 (the default) cut the collector's time there by ~40%
    (docs/performance.md). Since a request leaves no reference cycles behind (the compiled
    executor's ``build_response``), its objects are freed as it ends and a collection is
    rare. Cycles are still collected; memory grows by at most the threshold's worth of
    young objects."""
    global _gc_tuned
    if threshold <= 0 or _gc_tuned:
        return
    _gc_tuned = True
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(threshold, middle, old)


def create_app(settings: Settings, *, mongo_listeners: Sequence[CommandListener] = ()) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        client = database.connect(settings, [*mongo_listeners, DatabaseMetrics()])
        db = client[settings.mongodb_db]
        await database.ensure_indexes(db)
        services = app.state.services = Services(settings=settings, client=client, db=db)
        runner = JobRunner(
            db,
            HANDLERS,
            lease=timedelta(seconds=settings.job_lease_s),
            secrets=services.secrets,
        )
        services.on_shutdown.append(runner.stop)
        worker = asyncio.create_task(runner.run_forever()) if settings.run_jobs else None
        _tune_gc(settings.gc_threshold)
        try:
            yield
        finally:
            services.begin_shutdown()
            if worker is not None:
                await _stop_worker(worker, settings.job_lease_s)
            await client.close()

    view = GraphQLView(build_schema(settings), graphql_ide="graphiql" if settings.graphiql_enabled else None)
    return Starlette(
        routes=[
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
            Route("/healthz", healthz),
            Route("/favicon.ico", favicon),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            *([Mount(graphiql.ASSETS_PATH, app=graphiql.assets())] if settings.graphiql_enabled else []),
            *DOWNLOAD_ROUTES,
        ],
        middleware=[
            Middleware(RequestLogMiddleware),
            *_cors(settings),
            Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
            Middleware(ApiKeyMiddleware, authenticator=_authenticator),
        ],
        lifespan=lifespan,
    )


def app_from_environment() -> Starlette:
    """The app configured by the environment alone (uvicorn's --workers/--reload import it)."""
    return create_app(Settings())
