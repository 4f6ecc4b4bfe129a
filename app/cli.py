"""The `contactgraph` command: serve, worker, seed-demo, account, apikey, export-schema, safelist."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import orjson
from pymongo.errors import PyMongoError

from app import logs
from app.db import Database, Document, connect, ensure_indexes
from app.embedded import EmbeddedMongo, running_uri
from app.errors import DomainError
from app.graphiql import DEMO_KEY_FILE
from app.settings import Settings
from app.tenant import Tenant

log = logging.getLogger("contactgraph")


@contextlib.contextmanager
def database_uri(settings: Settings) -> Iterator[Settings]:
    """Settings with a MONGODB_URI: the configured one, the embedded server another
    process (e.g. `make run`) already runs on the same store, or a new embedded server."""
    if settings.mongodb_uri:
        yield settings
        return
    uri = running_uri(settings.data_dir)
    if uri:
        yield settings.model_copy(update={"mongodb_uri": uri})
        return
    with EmbeddedMongo(settings.data_dir.resolve()) as server:
        yield settings.model_copy(update={"mongodb_uri": server.uri})


@contextlib.asynccontextmanager
async def open_db(settings: Settings) -> AsyncIterator[Database]:
    client = connect(settings)
    try:
        db = client[settings.mongodb_db]
        await ensure_indexes(db)
        yield db
    finally:
        await client.close()


# -- serve -----------------------------------------------------------------------------


async def _prepare_demo(settings: Settings, seed: bool) -> str | None:
    """Seed the demo account on first start; the demo key, if this store has one."""
    from app.account.keys import create_api_key
    from app.auth import ALL_SCOPES
    from app.seed import is_seeded, seed_demo

    key_file = settings.data_dir / DEMO_KEY_FILE
    async with open_db(settings) as db:
        if not seed:
            return None
        if not await is_seeded(db):
            log.info("seeding the demo account (first start)")
            result = await seed_demo(db)
            _write_key(key_file, result.api_key)
        elif not key_file.exists():
            key, _ = await create_api_key(Tenant("demo", db), "demo admin key", ALL_SCOPES)
            _write_key(key_file, key)
    return key_file.read_text().strip()


def _write_key(path: Path, key: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(key + "\n")
    path.chmod(0o600)


def _graceful_server_class() -> type:
    import signal
    from types import FrameType

    import uvicorn

    class GracefulServer(uvicorn.Server):
        """uvicorn's server, with two changes. SIGTERM first drains: /readyz answers 503 (so
        load balancers stop routing here) while requests are still served for
        ``drain_s`` seconds; then uvicorn stops as usual, finishing what is in flight.
        And a handled signal ends serve() normally instead of being raised again."""

        drain_s: float = 0.0
        _draining = False

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if sig == signal.SIGTERM and self.drain_s > 0 and not self._draining:
                self._draining = True
                services = getattr(getattr(self.config.app, "state", None), "services", None)
                if services is not None:
                    services.begin_shutdown()
                loop = asyncio.get_running_loop()
                loop.call_later(self.drain_s, super().handle_exit, sig, frame)
                return
            super().handle_exit(sig, frame)

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            handled = (signal.SIGINT, signal.SIGTERM)
            original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
            try:
                yield
            finally:
                for sig, handler in original.items():
                    signal.signal(sig, handler)

    return GracefulServer


def _port_taken(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on (checked before anything starts), or None."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from app.main import create_app

    _GracefulServer = _graceful_server_class()

    host, port = args.host or settings.host, args.port or settings.port
    taken = _port_taken(host, port)
    if taken:
        print(
            f"error: cannot listen on {host}:{port} ({taken}): is another `make run` serving? Stop it, or "
            f"pick a port: contactgraph serve --port {port + 1} (or CONTACTGRAPH_PORT={port + 1} make run)",
            file=sys.stderr,
        )
        return 2
    embedded = not settings.mongodb_uri
    with database_uri(settings) as settings:
        demo_key = asyncio.run(_prepare_demo(settings, seed=embedded or args.seed_demo))
        url = f"http://{host}:{port}/graphql"
        print(f"\nContactGraph is serving GraphQL (and GraphiQL) at {url}", file=sys.stderr)
        if demo_key:
            print(f"Demo API key (account 'demo'): {demo_key}", file=sys.stderr)
            print(
                f'  curl -s {url} -H "Authorization: Bearer {demo_key}" -H "Content-Type: application/json" '
                '-d \'{"query":"{ account { id } }"}\'',
                file=sys.stderr,
            )
        print("Press Ctrl-C to stop.\n", file=sys.stderr)
        if args.workers > 1 or args.reload:
            # uvicorn's supervisors import the app in each worker process: they build it
            # from the environment, which now names the database this process chose.
            os.environ["MONGODB_URI"] = settings.mongodb_uri or ""
            uvicorn.run(
                "app.main:app_from_environment",
                factory=True,
                host=host,
                port=port,
                workers=args.workers,
                reload=args.reload,
                reload_dirs=[str(Path(__file__).parent)] if args.reload else None,
                log_config=None,
                timeout_graceful_shutdown=20,
            )
            print("stopped", file=sys.stderr)
            return 0
        config = uvicorn.Config(
            create_app(settings),
            host=host,
            port=port,
            log_config=None,
            lifespan="on",
            workers=1,
            proxy_headers=False,
            timeout_graceful_shutdown=20,
        )
        server = _GracefulServer(config)
        server.drain_s = settings.shutdown_drain_s
        server.run()
    print("stopped", file=sys.stderr)
    return 0


# -- seed-demo, account, apikey ------------------------------------------------------


def cmd_seed_demo(args: argparse.Namespace, settings: Settings) -> int:
    from app.seed import is_seeded, seed_demo

    async def run() -> int:
        async with open_db(settings) as db:
            if await is_seeded(db, args.account):
                print(f"account {args.account!r} already exists; nothing seeded", file=sys.stderr)
                return 1
            result = await seed_demo(
                db,
                args.account,
                contacts=args.contacts,
                events_per_contact=args.events_per_contact,
                seed=args.seed,
            )
        print(
            f"seeded account {result.account_id!r}: {result.contacts} contacts, "
            f"{result.activities} activities, {result.orders} orders",
            file=sys.stderr,
        )
        print(result.api_key)
        return 0

    with database_uri(settings) as settings:
        return asyncio.run(run())


def cmd_account_create(args: argparse.Namespace, settings: Settings) -> int:
    from app.account.setup import create_account

    async def run() -> None:
        async with open_db(settings) as db:
            await create_account(
                db,
                args.id,
                args.name or args.id,
                primary_key=args.primary_key,
                secondary_keys=tuple(args.secondary_key or ()),
            )

    with database_uri(settings) as settings:
        asyncio.run(run())
    print(f"created account {args.id!r}", file=sys.stderr)
    return 0


def cmd_account_list(args: argparse.Namespace, settings: Settings) -> int:
    from app.process_wide import list_accounts

    async def run() -> list[Document]:
        async with open_db(settings) as db:
            return await list_accounts(db)

    with database_uri(settings) as settings:
        accounts = asyncio.run(run())
    for doc in accounts:
        keys = ", ".join([doc.get("primaryKey", "email"), *(doc.get("secondaryKeys") or [])])
        print(f"{doc['_id']}\t{doc.get('name', '')}\tkeys: {keys}")
    if not accounts:
        print("no accounts yet: contactgraph account create --id <slug>", file=sys.stderr)
    return 0


def cmd_apikey(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from app.account import repository
    from app.account.keys import create_api_key
    from app.auth import parse_scopes

    async def run() -> int:
        async with open_db(settings) as db:
            tenant = Tenant(args.account, db)
            if args.apikey_command == "create":
                scopes = parse_scopes(
                    [s.strip() for value in args.scope for s in value.split(",") if s.strip()]
                )
                key, doc = await create_api_key(tenant, args.name, scopes)
                print(
                    f"key id {doc['_id'][:12]} for account {args.account!r} with scopes "
                    f"{', '.join(doc['scopes'])}; it is shown only once:",
                    file=sys.stderr,
                )
                print(key)
            elif args.apikey_command == "list":
                for doc in await repository.list_api_keys(tenant):
                    state = "revoked" if doc.get("revokedAt") else "active"
                    print(
                        f"{doc['_id'][:12]}  {state:8} {doc.get('name', '')!s:24} {','.join(doc['scopes'])}"
                    )
            else:
                count = await repository.revoke_api_key(tenant, args.key_id, datetime.now(UTC))
                print(f"revoked {count} key(s)", file=sys.stderr)
                return 0 if count else 1
        return 0

    with database_uri(settings) as settings:
        return asyncio.run(run())


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    import signal
    from datetime import timedelta

    from app.db import connect
    from app.jobs.handlers import HANDLERS
    from app.jobs.runner import JobRunner
    from app.secrets_box import SecretsBox

    async def run() -> None:
        client = connect(settings)
        db = client[settings.mongodb_db]
        await ensure_indexes(db)
        runner = JobRunner(
            db,
            HANDLERS,
            lease=timedelta(seconds=settings.job_lease_s),
            secrets=SecretsBox.from_settings(settings),
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, runner.stop)
        print(f"worker {runner.owner} is taking jobs; Ctrl-C stops it", file=sys.stderr)
        try:
            await runner.run_forever()
        finally:
            await client.close()

    with database_uri(settings) as settings:
        asyncio.run(run())
    return 0


def cmd_export_schema(args: argparse.Namespace, settings: Settings) -> int:
    from app.schema import client_sdl, schema_sdl

    sys.stdout.write(client_sdl() if args.client else schema_sdl())
    return 0


def cmd_safelist(args: argparse.Namespace, settings: Settings) -> int:
    from app.persisted import build_manifest

    manifest = build_manifest(Path(name).read_text() for name in args.documents)
    sys.stdout.write(orjson.dumps(manifest, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="contactgraph", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser(
        "serve", help="serve GraphQL (starts the embedded database unless MONGODB_URI is set)"
    )
    serve.add_argument("--host", help="bind address (default CONTACTGRAPH_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default CONTACTGRAPH_PORT or 8000)")
    serve.add_argument("--seed-demo", action="store_true", help="seed the demo account on MONGODB_URI too")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn worker processes (default 1; each runs its own job worker unless "
        "CONTACTGRAPH_RUN_JOBS=false; the SIGTERM drain applies to a single worker only)",
    )
    serve.add_argument("--reload", action="store_true", help="restart when app/ changes (development)")
    serve.set_defaults(func=cmd_serve)

    seed = sub.add_parser("seed-demo", help="create a demo account with realistic, deterministic data")
    seed.add_argument("--account", default="demo", help="account id to create and fill (default: demo)")
    seed.add_argument("--contacts", type=int, default=500, help="contacts to create (default 500)")
    seed.add_argument(
        "--events-per-contact",
        type=int,
        default=10,
        help="activities per contact, dated up to today (default 10)",
    )
    seed.add_argument("--seed", type=int, default=42, help="random seed (same seed, same data)")
    seed.set_defaults(func=cmd_seed_demo)

    account = sub.add_parser("account", help="manage accounts").add_subparsers(
        dest="account_command", required=True
    )
    create = account.add_parser("create", help="create an account")
    create.add_argument("--id", required=True, help="account slug (every API key and record carries it)")
    create.add_argument("--name", help="display name (default: the id)")
    create.add_argument(
        "--primary-key", default="email", help="the identifier refs use first (default: email)"
    )
    create.add_argument("--secondary-key", action="append", help="unique identifier key (repeatable)")
    create.set_defaults(func=cmd_account_create)
    listing = account.add_parser("list", help="list the accounts (id, name, identifier keys)")
    listing.set_defaults(func=cmd_account_list)

    apikey = sub.add_parser("apikey", help="manage API keys").add_subparsers(
        dest="apikey_command", required=True
    )
    key_create = apikey.add_parser("create", help="create a key (printed once)")
    key_create.add_argument("--account", required=True, help="the account the key acts for")
    key_create.add_argument(
        "--scope",
        action="append",
        required=True,
        help="scope, repeatable or comma-separated: contacts:read, contacts:write, "
        "activities:read, activities:write, activities:system, reports, admin",
    )
    key_create.add_argument("--name", default="api key", help="a label shown by `list` and in logs")
    key_list = apikey.add_parser("list", help="list an account's keys")
    key_list.add_argument("--account", required=True, help="the account whose keys to list")
    key_revoke = apikey.add_parser("revoke", help="revoke a key by the id `list` shows")
    key_revoke.add_argument("--account", required=True, help="the account the key belongs to")
    key_revoke.add_argument("key_id", help="the key id (or a unique prefix of it) that `list` shows")
    for p in (key_create, key_list, key_revoke):
        p.set_defaults(func=cmd_apikey)

    worker = sub.add_parser("worker", help="run jobs (imports, exports, reports) until stopped")
    worker.set_defaults(func=cmd_worker)

    export = sub.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    export.add_argument(
        "--client",
        action="store_true",
        help="self-contained SDL for client tools (federation directives defined)",
    )
    export.set_defaults(func=cmd_export_schema)

    safelist = sub.add_parser(
        "safelist",
        help="print a persisted query manifest (for CONTACTGRAPH_SAFELIST_FILE) of .graphql documents",
    )
    safelist.add_argument("documents", nargs="+", help=".graphql files, one operation document each")
    safelist.set_defaults(func=cmd_safelist)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    logs.configure(settings.log_level)
    try:
        code: int = args.func(args, settings)
    except DomainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except PyMongoError as exc:  # one line with the fix, not the driver's 70-line traceback
        where = "the embedded database" if not settings.mongodb_uri else "MONGODB_URI"
        first = str(exc).split(" (configured timeouts")[0].split(", Timeout:")[0].split("\n")[0][:200]
        print(
            f"error: cannot reach {where} ({type(exc).__name__}: {first}); check that it is running "
            "and that MONGODB_URI (host, port, replicaSet, credentials) is right",
            file=sys.stderr,
        )
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
