"""The benchmark suite (make bench): Q1, Q2, Q3 and W1 against the gateway over HTTP
(`contactgraph serve`, one uvicorn worker), the floor (minimal hand-written queries with
the same AsyncMongoClient + orjson, in-process), a naive Strawberry implementation (Q2) and
an Apollo Server 4 peer with DataLoader and the Node driver (Q1, Q2; installed from npm).

For each: p50 latency one request at a time; throughput, p50 and p99 at concurrency 16;
server CPU per request (from /proc) against the floor's CPU for the same fetch; database
commands per request (CommandListener, in-process). Writes bench/results/bench.json and
bench/results/bench.md (the table in docs/performance.md).

Options: --contacts N (default 10,000 on MONGODB_URI, 1,000 on the embedded database,
whose query planner scans collections), --quick (fewer requests), --no-peer (skip Apollo)."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import orjson
from asgi_lifespan import LifespanManager
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent

from app.db import DRIVER_COMMANDS, Database, connect
from app.embedded import EmbeddedMongo
from app.main import create_app
from app.settings import Settings
from bench import chart, dataset
from bench.workloads import Workload, remove_written, workloads

HERE = Path(__file__).parent
RESULTS = HERE / "results"
DOCS = HERE.parent / "docs"
APOLLO = HERE / "apollo"
MERCURIUS = HERE / "mercurius"
DATABASE = "contactgraph_bench"  # + "_N" for N contacts
CLI = str(Path(sys.executable).parent / "contactgraph")
TICK = os.sysconf("SC_CLK_TCK")
CONCURRENCY = 16
SYSTEMS = ("floor", "gateway", "naive", "apollo", "mercurius")


class Counter(CommandListener):
    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: CommandStartedEvent) -> None:
        if event.command_name not in DRIVER_COMMANDS:
            self.names.append(f"{event.command_name}:{event.command.get(event.command_name)}")

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def percentile(values: list[float], q: float) -> float | None:
    """None when nothing was measured (a workload run one by one only)."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000, 1)


def concurrent_summary(done: list[float], wall: float) -> dict[str, Any]:
    return {
        "c16_rps": round(len(done) / wall, 1) if done else None,
        "c16_p50_ms": percentile(done, 0.5),
        "c16_p99_ms": percentile(done, 0.99),
    }


@asynccontextmanager
async def process(
    args: list[str], env: dict[str, str], port: int, ready_path: str = "/"
) -> AsyncIterator[int]:
    """A server process; yields its pid once it answers on ``port``."""
    log = open(RESULTS / f"server-{port}.log", "w")  # noqa: ASYNC230, SIM115 - a child's log, opened once
    child = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603, ASYNC220
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(600):
                if child.poll() is not None:
                    raise RuntimeError(f"{args[0]} exited: see {log.name}")
                with suppress(httpx.TransportError):
                    await http.get(f"http://127.0.0.1:{port}{ready_path}", timeout=1)
                    break
                await asyncio.sleep(0.1)
        yield child.pid
    finally:
        child.terminate()
        child.wait(timeout=30)
        log.close()


async def measure_http(
    url: str, key: str | None, workload: Workload, pid: int, requests: int, seconds: float
) -> dict[str, Any]:
    """p50 one at a time (and CPU per request), then concurrency 16 for ``seconds``."""
    rng = random.Random(1)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as http:
        failures: list[str] = []
        sizes: list[int] = []

        async def call() -> float:
            started = time.perf_counter()
            response = await http.post(
                "/graphql", json={"query": workload.query, "variables": workload.variables(rng)}
            )
            elapsed = time.perf_counter() - started
            sizes.append(len(response.content))
            body = response.json()
            if response.status_code != 200 or body.get("errors"):
                # Counted, not fatal: an overloaded database ends requests at maxTimeMS.
                failures.append(str(body)[:300])
            return elapsed

        await call()  # warm up (caches, connections)
        cpu_before = cpu_seconds(pid)
        sequential = [await call() for _ in range(requests)]
        cpu = (cpu_seconds(pid) - cpu_before) / requests
        concurrent: list[float] = []
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                concurrent.append(await call())

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        wall = time.perf_counter() - started
    return {
        "p50_ms": round(statistics.median(sequential) * 1000, 2),
        "cpu_ms_per_request": round(cpu * 1000, 2),
        "response_kb": round(statistics.mean(sizes) / 1024, 1),
        **concurrent_summary(concurrent, wall),
        "errors": len(failures),
        "first_error": failures[0] if failures else None,
    }


async def measure_floor(db: Database, workload: Workload, requests: int, seconds: float) -> dict[str, Any]:
    rng = random.Random(1)
    await workload.floor(db, workload.variables(rng))
    latencies, cpu, size = [], 0.0, 0
    for _ in range(requests):
        variables = workload.variables(rng)
        started, cpu_started = time.perf_counter(), time.process_time()
        size += len(await workload.floor(db, variables))
        latencies.append(time.perf_counter() - started)
        cpu += time.process_time() - cpu_started
    done: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await workload.floor(db, workload.variables(rng))
            done.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    wall = time.perf_counter() - started
    return {
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "cpu_ms_per_request": round(cpu / requests * 1000, 2),
        "response_kb": round(size / requests / 1024, 1),
        **concurrent_summary(done, wall),
    }


async def command_counts(settings: Settings, key: str, loads: list[Workload]) -> dict[str, Any]:
    """Database commands per request, the gateway's (in-process, same code) and the floor's."""
    gateway, floor = Counter(), Counter()
    counts: dict[str, Any] = {}
    app = create_app(settings, mongo_listeners=[gateway])
    floor_client = connect(settings, [floor])
    rng = random.Random(2)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://b") as http,
    ):
        headers = {"Authorization": f"Bearer {key}"}

        async def post(query: str, variables: dict[str, Any]) -> None:
            body = (
                await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
            ).json()
            assert not body.get("errors"), body

        for workload in loads:
            variables = workload.variables(rng)
            # Steady state: the key and the account's configuration are cached (10 s) from
            # the warm-up requests on, as they are under traffic (two: a first, cold read of
            # a large account can outlast the cache).
            await post(workload.query, variables)
            await post(workload.query, variables)
            gateway.names.clear()
            await post(workload.query, variables)
            floor.names.clear()
            await workload.floor(floor_client[settings.mongodb_db], variables)
            counts[workload.name] = {
                "gateway": len(gateway.names),
                "floor": len(floor.names),
                "gateway_commands": list(gateway.names),
            }
        q2 = next((w for w in loads if w.name == "Q2"), None)
        if q2 is not None:
            await post(q2.query, {"n": 5})
            gateway.names.clear()
            await post(q2.query, {"n": 5})
            counts["Q2"]["gateway_first_5"] = len(gateway.names)
    await floor_client.close()
    return counts


def ensure_peer(folder: Path) -> bool:
    """A Node peer's packages, from its committed lock."""
    if not shutil.which("node") or not shutil.which("npm"):
        print(f"no node/npm: the {folder.name} peer is skipped")
        return False
    if not (folder / "node_modules").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=folder, check=True)  # noqa: S607
    return True


async def run(
    uri: str, contacts: int, quick: bool, peer: bool, only: set[str] | None = None
) -> dict[str, Any]:
    database = f"{DATABASE}_{contacts}"
    settings = Settings(
        MONGODB_URI=uri,
        MONGODB_DB=database,
        CONTACTGRAPH_RUN_JOBS=False,
        CONTACTGRAPH_RATE_LIMIT_RESTORE_RATE=0,
        CONTACTGRAPH_MAX_QUERY_COST=1_000_000,
    )
    client = connect(settings)
    db = client[database]
    key = await dataset.ensure(db, contacts)
    sample = (
        await db["contacts"]
        .find(
            {"accountId": dataset.ACCOUNT},
            {"channels.email.address": 1, "channels.sms.address": 1, "attributes.custID": 1},
        )
        .limit(500)
        .to_list()
    )
    emails = [c["channels"]["email"]["address"] for c in sample if c.get("channels", {}).get("email")]
    sms = [c["channels"]["sms"]["address"] for c in sample if c.get("channels", {}).get("sms")]
    cust_ids = [c["attributes"]["custID"] for c in sample]
    loads = [
        w
        for w in workloads(emails, [str(c["_id"]) for c in sample], cust_ids, sms)
        if only is None or w.name in only
    ]
    requests = (
        {"Q1": 40, "Q2": 15, "Q2_200": 5, "Q3": 15, "W1": 5}
        if quick
        else {"Q1": 200, "Q2": 40, "Q2_200": 15, "Q3": 40, "W1": 10}
    )
    requests.update(dict.fromkeys(("L_email", "L_custID", "L_sms", "L_cID"), 30 if quick else 100))
    seconds = 5.0 if quick else 15.0
    # Q2_200 is measured one by one only (its CPU per request): sixteen at a time of a
    # 10,000-activity read only queue up behind the embedded engine.
    concurrent = {w.name: 0.0 if w.name == "Q2_200" else seconds for w in loads}

    results: dict[str, Any] = {
        "dataset": {"contacts": contacts, "activities_per_contact": dataset.EVENTS_PER_CONTACT},
        "commands": await command_counts(settings, key, loads),
        "workloads": {},
    }
    env = {
        **os.environ,
        "MONGODB_URI": uri,
        "MONGODB_DB": database,
        "CONTACTGRAPH_ENV": "production",
        "CONTACTGRAPH_RUN_JOBS": "false",
        "CONTACTGRAPH_RATE_LIMIT_RESTORE_RATE": "0",
        "CONTACTGRAPH_MAX_QUERY_COST": "1000000",
        "CONTACTGRAPH_LOG_LEVEL": "WARNING",
    }
    systems: list[tuple[str, list[str], dict[str, str], set[str], str | None, str]] = []
    port = free_port()
    systems.append(
        (
            "gateway",
            [CLI, "serve"],
            {**env, "CONTACTGRAPH_PORT": str(port)},
            {w.name for w in loads},
            key,
            str(port),
        )
    )
    naive_port = free_port()
    systems.append(
        (
            "naive",
            [sys.executable, "-m", "bench.naive", str(naive_port), uri, database],
            env,
            {"Q2"},
            None,
            str(naive_port),
        )
    )
    for name, folder in (("apollo", APOLLO), ("mercurius", MERCURIUS)):
        if peer and ensure_peer(folder):
            peer_port = free_port()
            systems.append(
                (
                    name,
                    ["node", str(folder / "server.mjs"), str(peer_port), uri, database],
                    env,
                    {"Q1", "Q2", "Q2_200"},
                    None,
                    str(peer_port),
                )
            )

    await remove_written(db)
    for workload in loads:
        row: dict[str, Any] = {
            "floor": await measure_floor(db, workload, requests[workload.name], concurrent[workload.name])
        }
        await remove_written(db)
        results["workloads"][workload.name] = row
        print(workload.name, "floor", row["floor"])
    for name, args, system_env, covered, system_key, system_port in systems:
        async with process(
            args, system_env, int(system_port), "/healthz" if name == "gateway" else "/"
        ) as pid:
            for workload in loads:
                if workload.name in covered:
                    url = f"http://127.0.0.1:{system_port}"
                    measured = await measure_http(
                        url, system_key, workload, pid, requests[workload.name], concurrent[workload.name]
                    )
                    results["workloads"][workload.name][name] = measured
                    await remove_written(db)
                    print(workload.name, name, measured)
    await client.close()
    return results


def ratios(results: dict[str, Any]) -> dict[str, Any]:
    """The ratios the targets are stated in; those whose workloads were not run are left out."""
    w = results["workloads"]

    def metric(name: str, system: str, key: str) -> float | None:
        value = w.get(name, {}).get(system, {}).get(key)
        return float(value) if value is not None else None

    def r(a: float | None, b: float | None) -> float | None:
        return round(a / b, 2) if a is not None and b else None

    out: dict[str, float | None] = {
        "Q1_p50_vs_floor": r(metric("Q1", "gateway", "p50_ms"), metric("Q1", "floor", "p50_ms")),
        "Q2_p50_vs_floor": r(metric("Q2", "gateway", "p50_ms"), metric("Q2", "floor", "p50_ms")),
        "Q2_rps_vs_naive": r(metric("Q2", "gateway", "c16_rps"), metric("Q2", "naive", "c16_rps")),
        "W1_events_per_s_vs_insert_many": r(
            metric("W1", "floor", "p50_ms"), metric("W1", "gateway", "p50_ms")
        ),
    }
    for name in ("Q1", "Q2", "Q2_200", "Q3"):
        cpu = metric(name, "gateway", "cpu_ms_per_request")
        out[f"{name}_cpu_vs_floor"] = r(cpu, metric(name, "floor", "cpu_ms_per_request"))
        out[f"{name}_c16_p99_vs_p50"] = r(
            metric(name, "gateway", "c16_p99_ms"), metric(name, "gateway", "c16_p50_ms")
        )
        for peer in ("apollo", "mercurius"):
            out[f"{name}_cpu_vs_{peer}"] = r(cpu, metric(name, peer, "cpu_ms_per_request"))
            out[f"{name}_rps_vs_{peer}"] = r(
                metric(name, "gateway", "c16_rps"), metric(name, peer, "c16_rps")
            )
    for system in ("gateway", "floor", "apollo", "mercurius"):
        # CPU per extra response KB from 50 to 200 contacts, in microseconds.
        cpu_kb = [
            (metric(n, system, "cpu_ms_per_request"), metric(n, system, "response_kb"))
            for n in ("Q2", "Q2_200")
        ]
        match cpu_kb:
            case [(float(small), float(kb_small)), (float(large), float(kb_large))]:
                out[f"Q2_us_per_kb_{system}"] = r((large - small) * 1000, kb_large - kb_small)
    return {k: v for k, v in out.items() if v is not None}


def table(results: dict[str, Any]) -> str:
    lines = [
        "| workload | system | p50, 1 by 1 | CPU / request | response | req/s at c16 | p50 / p99 at c16 "
        "| commands |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in results["workloads"].items():
        commands = results["commands"].get(name, {})
        for system in SYSTEMS:
            if system not in row:
                continue
            m = row[system]
            count = commands.get(system, "")
            lines.append(
                f"| {name} | {system} | {m['p50_ms']} ms | {m['cpu_ms_per_request']} ms | "
                f"{m['response_kb']} KB | {m['c16_rps'] or '-'} | "
                f"{m['c16_p50_ms'] or '-'} / {m['c16_p99_ms'] or '-'} ms | {count} |"
            )
    return "\n".join(lines) + "\n"


def scaling(by_size: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Per workload and system: p50 and commands at each size, and the ratio of the largest
    size's p50 to the smallest's (flat is 1)."""
    sizes = sorted(by_size)
    out: dict[str, Any] = {}
    for name in by_size[sizes[0]]["workloads"]:
        for system in SYSTEMS:
            p50 = {n: by_size[n]["workloads"].get(name, {}).get(system, {}).get("p50_ms") for n in sizes}
            if any(v is None for v in p50.values()):
                continue
            commands = {n: by_size[n]["commands"].get(name, {}).get(system) for n in sizes}
            out[f"{name}/{system}"] = {
                "p50_ms": p50,
                "commands": commands,
                "ratio": round(p50[sizes[-1]] / p50[sizes[0]], 2) if p50[sizes[0]] else None,
            }
    largest = by_size[sizes[-1]]["workloads"]
    targets: dict[str, Any] = {}
    if "L_cID" in largest:
        for kind in ("email", "custID", "sms"):
            if f"L_{kind}" in largest:
                targets[f"L_{kind}_vs_cID_at_{sizes[-1]}"] = round(
                    largest[f"L_{kind}"]["gateway"]["p50_ms"] / largest["L_cID"]["gateway"]["p50_ms"], 2
                )
    if "Q1/gateway" in out:
        targets[f"Q1_{sizes[-1]}_vs_{sizes[0]}"] = out["Q1/gateway"]["ratio"]
    return {"sizes": sizes, "series": out, "targets": targets}


def scaling_table(summary: dict[str, Any]) -> str:
    sizes = summary["sizes"]
    head = " | ".join(f"p50 at {n:,}" for n in sizes)
    lines = [
        f"| workload | system | {head} | ratio | commands |",
        "|---|---|" + "---|" * len(sizes) + "---|---|",
    ]
    for label, row in summary["series"].items():
        name, system = label.split("/")
        cells = " | ".join(f"{row['p50_ms'][n]} ms" for n in sizes)
        commands = " / ".join(str(row["commands"][n]) for n in sizes if row["commands"][n] is not None)
        lines.append(f"| {name} | {system} | {cells} | {row['ratio']}x | {commands} |")
    return "\n".join(lines) + "\n"


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000", help="account sizes (contacts), comma-separated")
    parser.add_argument("--contacts", type=int, help="one size only")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--workloads", help="run only these workloads, comma-separated (e.g. Q1,Q2,Q2_200)")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    uri = Settings().mongodb_uri
    sizes = [args.contacts] if args.contacts else [int(n) for n in args.sizes.split(",")]
    by_size: dict[int, dict[str, Any]] = {}
    only = set(args.workloads.split(",")) if args.workloads else None
    for contacts in sizes:
        if uri:
            results = await run(uri, contacts, args.quick, not args.no_peer, only)
        else:
            with EmbeddedMongo(dataset.DATA / f"db-{contacts}") as server:
                results = await run(server.uri, contacts, args.quick, not args.no_peer, only)
        results["ratios"] = ratios(results)
        results["engine"] = "mongodb" if uri else "embedded"
        by_size[contacts] = results
        print(table(results))
    report: dict[str, Any] = {"engine": "mongodb" if uri else "embedded", "by_size": by_size}
    markdown = "".join(f"### {n:,} contacts\n\n{table(r)}\n" for n, r in by_size.items())
    if len(sizes) > 1:
        report["scaling"] = scaling(by_size)
        markdown = f"### Scaling\n\n{scaling_table(report['scaling'])}\n" + markdown
        chart.draw(report, DOCS / "bench-scaling.svg")
    (RESULTS / "bench.json").write_bytes(
        orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
    )
    (RESULTS / "bench.md").write_text(markdown)
    print(markdown)
    for n, r in by_size.items():
        print(n, orjson.dumps(r["ratios"]).decode())
    if "scaling" in report:
        print(orjson.dumps(report["scaling"]["targets"], option=orjson.OPT_INDENT_2).decode())


def entry() -> None:
    asyncio.run(main())


if __name__ == "__main__":
    entry()
