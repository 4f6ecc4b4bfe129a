"""The `contactgraph` command as a user runs it: serve (embedded database, demo seed,
Ctrl-C, restart), apikey, account, seed-demo, export-schema."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.schema import schema_sdl

CLI = [sys.executable, "-m", "app.cli"]
ROOT = Path(__file__).parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def run_cli(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [*CLI, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def embedded_env(tmp_path: Path) -> dict[str, str]:
    """An environment with no MONGODB_URI: the CLI starts (or reuses) an embedded server."""
    env = {k: v for k, v in os.environ.items() if k != "MONGODB_URI"}
    env["CONTACTGRAPH_DATA_DIR"] = str(tmp_path / "data")
    return env


class Served:
    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.port = free_port()
        self.env = {**env, "CONTACTGRAPH_PORT": str(self.port)}
        self.process = subprocess.Popen(  # noqa: S603
            [*CLI, "serve", *args],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("serve did not become ready")

    def stop(self) -> str:
        self.process.send_signal(signal.SIGINT)
        out, _ = self.process.communicate(timeout=60)
        return out

    def output(self) -> str:
        self.process.kill()
        return self.process.communicate()[0]


@pytest.fixture
def served(embedded_env: dict[str, str]) -> Iterator[Served]:
    server = Served(embedded_env)
    try:
        server.wait_ready()
        yield server
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()


def gql(url: str, key: str, query: str) -> dict[str, object]:
    response = httpx.post(url + "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def demo_key(data_dir: Path) -> str:
    return (data_dir / "demo-api-key").read_text().strip()


def secantus_children(data_dir: Path) -> list[str]:
    ps = subprocess.run(["ps", "-ww", "-eo", "args"], capture_output=True, text=True, check=True)  # noqa: S607
    return [line for line in ps.stdout.splitlines() if "secantusd-py" in line and str(data_dir) in line]


def test_serve_seeds_prints_the_key_stops_cleanly_and_keeps_data(
    served: Served, embedded_env: dict[str, str]
) -> None:
    data_dir = Path(embedded_env["CONTACTGRAPH_DATA_DIR"])
    key = demo_key(data_dir)
    query = "{ contacts(first: 1) { totalCount edges { node { email orders { totalCount } activities { totalCount } } } } }"

    first = gql(served.url, key, query)
    ide = httpx.get(served.url + "/graphql", headers={"Accept": "text/html"})
    assert secantus_children(data_dir)
    output = served.stop()

    assert first["data"]["contacts"]["totalCount"] == 500  # type: ignore[index]
    assert ide.status_code == 200
    assert f"http://127.0.0.1:{served.port}/graphql" in output
    assert key in output
    assert "Traceback" not in output
    assert served.process.returncode == 0
    assert not secantus_children(data_dir), "the embedded database outlived serve"

    again = Served(embedded_env)
    try:
        again.wait_ready()
        assert gql(again.url, key, query) == first  # same data, same key, nothing re-seeded
    finally:
        again.stop()


def test_apikey_create_prints_the_key_once_and_it_authenticates(
    served: Served, embedded_env: dict[str, str]
) -> None:
    # the CLI finds the embedded server `serve` runs on the same store and uses it
    created = run_cli("apikey", "create", "--account", "demo", "--scope", "contacts:read", env=embedded_env)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()

    listed = run_cli("apikey", "list", "--account", "demo", env=embedded_env)
    refused = gql(
        served.url,
        key,
        '{ account { id } contact(ref: "x@example.com") { cID } activities: contacts(first: 1) { edges { node { activities { totalCount } } } } }',
    )

    assert key.startswith("cg_")
    assert key not in listed.stdout
    assert "contacts:read" in listed.stdout
    assert refused["errors"][0]["extensions"]["requiredScope"] == "activities:read"  # type: ignore[index]


def test_unknown_scope_and_unknown_account_are_clear_cli_errors(embedded_env: dict[str, str]) -> None:
    bad_scope = run_cli("apikey", "create", "--account", "demo", "--scope", "everything", env=embedded_env)
    no_account = run_cli("apikey", "create", "--account", "nope", "--scope", "admin", env=embedded_env)

    assert bad_scope.returncode == 2
    assert "unknown scope" in bad_scope.stderr
    assert no_account.returncode == 2
    assert "No account 'nope'" in no_account.stderr


def test_account_create_then_seed_demo_with_flags(embedded_env: dict[str, str]) -> None:
    created = run_cli("account", "create", "--id", "shop", "--secondary-key", "custID", env=embedded_env)
    seeded = run_cli(
        "seed-demo",
        "--account",
        "bigger",
        "--contacts",
        "1200",
        "--events-per-contact",
        "3",
        env=embedded_env,
    )
    again = run_cli("seed-demo", "--account", "bigger", env=embedded_env)

    listed = run_cli("account", "list", env=embedded_env)

    assert created.returncode == 0, created.stderr
    assert listed.returncode == 0, listed.stderr
    assert "shop\tshop\tkeys: email, custID" in listed.stdout
    assert seeded.returncode == 0, seeded.stderr
    assert "1200 contacts, 3600 activities" in seeded.stderr
    assert again.returncode == 1
    assert "already exists" in again.stderr


def test_export_schema_prints_the_sdl(embedded_env: dict[str, str]) -> None:
    result = run_cli("export-schema", env=embedded_env)

    assert result.returncode == 0
    assert result.stdout == schema_sdl()


def test_every_command_has_help(embedded_env: dict[str, str]) -> None:
    for args in (
        ["--help"],
        ["serve", "--help"],
        ["worker", "--help"],
        ["seed-demo", "--help"],
        ["account", "create", "--help"],
        ["account", "list", "--help"],
        ["apikey", "create", "--help"],
        ["apikey", "list", "--help"],
        ["apikey", "revoke", "--help"],
        ["export-schema", "--help"],
        ["safelist", "--help"],
    ):
        result = run_cli(*args, env=embedded_env)
        assert result.returncode == 0, args
        assert "usage: contactgraph" in result.stdout
    serve = run_cli("serve", "--help", env=embedded_env).stdout
    assert all(flag in serve for flag in ("--host", "--port", "--workers", "--reload"))
    top = run_cli("--help", env=embedded_env).stdout
    assert all(command in top.split("positional arguments")[0] for command in ("worker", "safelist"))


def test_serve_with_two_workers(embedded_env: dict[str, str]) -> None:
    server = Served(embedded_env, "--workers", "2")
    try:
        server.wait_ready()
        key = demo_key(Path(embedded_env["CONTACTGRAPH_DATA_DIR"]))
        answers = [gql(server.url, key, "{ contacts { totalCount } }") for _ in range(6)]
        ps = ["ps", "--ppid", str(server.process.pid), "-o", "args="]
        children = subprocess.run(ps, capture_output=True, text=True, check=True).stdout  # noqa: S603
        server.stop()
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()
    assert [a["data"] for a in answers] == [{"contacts": {"totalCount": 500}}] * 6
    assert children.count("multiprocessing.spawn") == 2, children  # two uvicorn workers
    assert server.process.returncode == 0


def test_a_taken_port_and_an_unreachable_database_are_one_line_with_the_fix(
    embedded_env: dict[str, str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = run_cli("serve", "--port", str(port), env=embedded_env)
    unreachable = run_cli(
        "serve",
        env={
            **embedded_env,
            "MONGODB_URI": "mongodb://127.0.0.1:1/",
            "CONTACTGRAPH_DB_SELECTION_TIMEOUT_MS": "300",
        },
    )

    for result, says in ((busy, f"--port {port + 1}"), (unreachable, "cannot reach MONGODB_URI")):
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        lines = [line for line in result.stderr.splitlines() if not line.startswith("{")]  # JSON log lines
        assert len(lines) == 1, lines
        assert says in lines[0]
    assert "is serving GraphQL" not in busy.stderr  # refused before the banner
