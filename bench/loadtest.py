"""Load test: `contactgraph serve` (one uvicorn worker) under a mix of reads and event writes
for a few minutes, driven by locust headless; error rate, latency, throughput and the
server's memory (RSS sampled every 5 s). Run: make loadtest (LOADTEST_SECONDS, LOADTEST_USERS).

It starts its own embedded database (or uses MONGODB_URI), seeds a demo account, gives each
simulated client its own API key (as separate BFF instances would have), and fails when
more than 0.1% of requests fail or the server's memory keeps growing after warm-up.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from itertools import cycle
from pathlib import Path
from typing import Any

import gevent
import httpx
import orjson
from locust import HttpUser, between, events, task
from locust.env import Environment

from app.embedded import EmbeddedMongo

RESULTS = Path(__file__).parent / "results"
CLI = str(Path(sys.executable).parent / "contactgraph")
SECONDS = int(os.environ.get("LOADTEST_SECONDS", "180"))
USERS = int(os.environ.get("LOADTEST_USERS", "8"))
CONTACTS = int(os.environ.get("LOADTEST_CONTACTS", "500"))
WARMUP_S = 30  # caches (parser, validation, connection pool) fill up first

CONTACT = """query($r: String!) { contact(ref: $r) { cID email lists cart { items { productID qty } }
  activities(first: 10) { edges { node { action ats mcID message { id name } } } }
  orders(first: 5) { edges { node { orderID totalAmount items { sku qty } } } } } }"""
PAGE = """{ contacts(first: 20) { totalCount edges { cursor node { cID email
  activities(first: 5) { edges { node { action ats } } }
  orders(first: 3) { edges { node { orderID } } } } } } }"""
ACTIVITIES = """query($a: String!) {
  activities(where: {action: $a}, first: 100) { edges { node { cID action ats } } } }"""
RECORD = """mutation($e: [EventInput!]!) {
  eventsRecord(inputs: $e) { recordedCount failedCount userErrors { code } } }"""
ACTIONS = ["open", "click", "message-sent", "browse"]


class Gateway(HttpUser):
    wait_time = between(0.2, 0.6)
    keys: cycle[str]
    cids: list[str] = []

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {next(Gateway.keys)}"

    def graphql(self, name: str, query: str, variables: dict[str, Any] | None = None) -> None:
        with self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, name=name, catch_response=True
        ) as response:
            try:
                body = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                response.failure(f"HTTP {response.status_code}: not JSON")
                return
            payload = (body.get("data") or {}).get("eventsRecord") or {}
            if response.status_code != 200 or body.get("errors") or payload.get("failedCount"):
                response.failure(str(body.get("errors") or payload or response.status_code)[:300])

    @task(40)
    def contact(self) -> None:
        self.graphql("contact", CONTACT, {"r": random.choice(self.cids)})

    @task(15)
    def contacts(self) -> None:
        self.graphql("contacts", PAGE)

    @task(15)
    def activities(self) -> None:
        self.graphql("activities", ACTIVITIES, {"a": random.choice(ACTIONS)})

    @task(30)
    def record(self) -> None:
        events_ = [
            {
                "contact": random.choice(self.cids),
                "action": "browse",
                "properties": {"page": f"p{random.randrange(50)}"},
            }
            for _ in range(10)
        ]
        self.graphql("eventsRecord x10", RECORD, {"e": events_})


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([CLI, *args], env=env, capture_output=True, text=True, check=True)  # noqa: S603
    return done.stdout.strip().splitlines()[-1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run(uri: str, workdir: Path) -> dict[str, Any]:
    port = free_port()
    env = {
        **os.environ,
        "MONGODB_URI": uri,
        "MONGODB_DB": f"cgload_{uuid.uuid4().hex[:8]}",
        "CONTACTGRAPH_ENV": "production",
        "CONTACTGRAPH_PORT": str(port),
        "CONTACTGRAPH_LOG_LEVEL": "WARNING",
    }
    cli(env, "seed-demo", "--contacts", str(CONTACTS), "--events-per-contact", "20")
    Gateway.keys = cycle(
        [cli(env, "apikey", "create", "--account", "demo", "--scope", "admin") for _ in range(USERS)]
    )
    log = (workdir / "server.log").open("w")
    server = subprocess.Popen([CLI, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        key = next(Gateway.keys)
        everyone = {"query": f"{{ contacts(first: {CONTACTS}) {{ edges {{ node {{ cID }} }} }} }}"}
        page = httpx.post(f"{base}/graphql", headers={"Authorization": f"Bearer {key}"}, json=everyone).json()
        Gateway.cids = [e["node"]["cID"] for e in page["data"]["contacts"]["edges"]]

        environment = Environment(user_classes=[Gateway], events=events, host=base)
        runner = environment.create_local_runner()
        samples: list[tuple[float, float]] = []
        started = time.monotonic()

        def sample() -> None:
            while True:
                samples.append((time.monotonic() - started, rss_mb(server.pid)))
                gevent.sleep(5)

        sampler = gevent.spawn(sample)
        runner.start(USERS, spawn_rate=USERS)
        gevent.spawn_later(SECONDS, runner.quit)
        runner.greenlet.join()
        sampler.kill()
        samples.append((time.monotonic() - started, rss_mb(server.pid)))
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
    server_log = (workdir / "server.log").read_text()

    total = environment.stats.total
    by_name = {
        name: {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "p50_ms": entry.get_response_time_percentile(0.5),
            "p99_ms": entry.get_response_time_percentile(0.99),
        }
        for (name, _), entry in sorted(environment.stats.entries.items())
    }
    after_warmup = [rss for at, rss in samples if at >= WARMUP_S]
    second_half = [rss for at, rss in samples if at >= SECONDS / 2]
    errors = [(e.name, str(e.error)[:300], e.occurrences) for e in environment.stats.errors.values()][:10]
    return {
        "seconds": SECONDS,
        "users": USERS,
        "contacts": CONTACTS,
        "requests": total.num_requests,
        "failures": total.num_failures,
        "error_rate": total.num_failures / max(total.num_requests, 1),
        "rps": total.num_requests / SECONDS,
        "p50_ms": total.get_response_time_percentile(0.5),
        "p99_ms": total.get_response_time_percentile(0.99),
        "by_operation": by_name,
        "rss_mb": {
            "at_warmup_end": after_warmup[0] if after_warmup else None,
            "end": samples[-1][1],
            "max_after_warmup": max(after_warmup) if after_warmup else None,
            "second_half_growth": (second_half[-1] - second_half[0]) / second_half[0]
            if second_half
            else None,
            "samples": [(round(at), round(rss, 1)) for at, rss in samples],
        },
        "errors": errors,
        "server_log_errors": [line[:500] for line in server_log.splitlines() if '"ERROR"' in line][:10],
    }


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        uri = os.environ.get("MONGODB_URI")
        if uri:
            result = run(uri, workdir)
        else:
            with EmbeddedMongo(workdir / "db") as database:
                result = run(database.uri, workdir)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "loadtest.json").write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    memory = result["rss_mb"]
    growth = (
        (memory["end"] - memory["at_warmup_end"]) / memory["at_warmup_end"] if memory["at_warmup_end"] else 0
    )
    late = memory["second_half_growth"] or 0.0
    print(
        f"\n{result['requests']} requests in {SECONDS} s ({result['rps']:.0f}/s) from {USERS} clients; "
        f"{result['failures']} failed ({result['error_rate']:.4%}); "
        f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms"
    )
    for name, row in result["by_operation"].items():
        print(
            f"  {name:18} {row['requests']:7} requests  p50 {row['p50_ms']:5} ms  "
            f"p99 {row['p99_ms']:5} ms  {row['failures']} failed"
        )
    print(
        f"server RSS: {memory['at_warmup_end']:.0f} MB after {WARMUP_S} s warm-up, "
        f"{memory['end']:.0f} MB at the end ({growth:+.1%}), max {memory['max_after_warmup']:.0f} MB; "
        f"over the second half {late:+.1%}"
    )
    for error in result["errors"]:
        print("error:", error)
    for line in result["server_log_errors"]:
        print("server log:", line)
    ok = result["error_rate"] < 0.001 and growth < 0.10
    print(
        "PASS"
        if ok
        else "FAIL: error rate must stay under 0.1% and memory must not grow by 10% after warm-up"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
