"""Schemathesis GraphQL fuzzing against a running `contactgraph serve` (production mode,
introspection on, seeded demo data): every query and mutation field gets generated
operations, with a fixed seed, and none may answer HTTP 5xx or an unexpected (masked) error."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pymongo import MongoClient

from tests.live import free_port

EXAMPLES_PER_FIELD = 40
CLI = str(Path(sys.executable).parent / "contactgraph")


@pytest.fixture(scope="module")
def server(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, demo key) of a production-mode gateway over its own database."""
    db_name = f"cgfuzz_{uuid.uuid4().hex[:12]}"
    port = free_port()
    env = {
        **os.environ,
        "MONGODB_URI": mongo_uri,
        "MONGODB_DB": db_name,
        "CONTACTGRAPH_ENV": "production",
        "CONTACTGRAPH_INTROSPECTION": "true",
        "CONTACTGRAPH_PORT": str(port),
        "CONTACTGRAPH_LOG_LEVEL": "WARNING",
    }
    seeded = subprocess.run(  # noqa: S603
        [CLI, "seed-demo", "--contacts", "40", "--events-per-contact", "5"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    key = seeded.stdout.strip().splitlines()[-1]
    log = tmp_path_factory.mktemp("fuzz") / "server.log"
    with log.open("w") as sink:
        process = subprocess.Popen([CLI, "serve"], env=env, stdout=sink, stderr=subprocess.STDOUT)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError(f"the server did not start:\n{log.read_text()}")
        yield base, key
        print(log.read_text()[-20000:])
    finally:
        process.terminate()
        process.wait(timeout=30)
        with MongoClient[dict[str, Any]](mongo_uri) as client:
            client.drop_database(db_name)


def unexpected(body: Any) -> list[Any]:
    """Errors that are faults (masked as INTERNAL_ERROR in production), not refusals."""
    if not isinstance(body, dict):
        return [body]
    return [
        e
        for e in body.get("errors") or []
        if (e.get("extensions") or {}).get("code") == "INTERNAL_ERROR"
        or str(e.get("message", "")).startswith("Unexpected error")
    ]


def _register_scalars() -> None:
    """Strategies for the custom scalars (schemathesis refuses a required one it cannot
    generate): valid and invalid values alike, since refusing them is what is under test."""
    from schemathesis.graphql import nodes

    text = st.text(max_size=30).map(nodes.String)
    instants = st.datetimes().map(lambda d: nodes.String(d.isoformat()))
    json_values = st.one_of(
        text,
        st.integers(-(10**6), 10**6).map(nodes.Int),
        st.booleans().map(nodes.Boolean),
        st.just(nodes.Null),
    )
    schemathesis.graphql.scalar("JSON", json_values)
    schemathesis.graphql.scalar("Properties", json_values)
    schemathesis.graphql.scalar("DateTime", st.one_of(instants, text))
    schemathesis.graphql.scalar(
        "DateTimeOrTimestamp", st.one_of(instants, text, st.integers(-(10**12), 10**12).map(nodes.Int))
    )


def test_generated_operations_never_fault(server: tuple[str, str]) -> None:
    base, key = server
    _register_scalars()
    # The schema as the running server introspects it (the SDL file's federation @link is
    # not plain GraphQL); schemathesis leaves federation's _entities/_service out.
    schema = schemathesis.graphql.from_url(
        f"{base}/graphql", headers={"Authorization": f"Bearer {key}"}, timeout=60
    )
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    statuses: Counter[int] = Counter()
    codes: Counter[str] = Counter()
    faults: list[tuple[str, str, Any]] = []
    session = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30)

    def fuzz(operation: Any) -> None:
        @settings(
            max_examples=EXAMPLES_PER_FIELD,
            derandomize=True,  # a fixed seed: the same operations on every run
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(data=st.data())
        def run(data: st.DataObject) -> None:
            case = data.draw(operation.as_strategy())
            response = session.post("/graphql", json={"query": case.body})
            statuses[response.status_code] += 1
            try:
                body = response.json()
            except ValueError:
                body = response.text
            for error in body.get("errors") or [] if isinstance(body, dict) else []:
                codes[str((error.get("extensions") or {}).get("code", "GRAPHQL_VALIDATION"))] += 1
            if response.status_code >= 500 or unexpected(body):
                faults.append((operation.label, case.body, body))

        run()

    for operation in operations:
        fuzz(operation)
    session.close()
    total = sum(statuses.values())
    print(
        f"\n{total} operations over {len(operations)} root fields; statuses {dict(statuses)}; codes {dict(codes)}"
    )
    assert len(operations) >= 30  # every query and mutation field of the schema
    assert total >= 1000
    assert faults == []
