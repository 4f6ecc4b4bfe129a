"""`pip install .` gives the `contactgraph` command: the wheel declares the entry point and
carries the whole app, GraphiQL's assets included; the container files name real commands."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

ROOT = Path(__file__).parent.parent
UV = ROOT / ".tools" / "bin" / "uv"  # bootstrapped by the Makefile


def test_the_wheel_has_the_command_and_the_static_assets(tmp_path: Path) -> None:
    subprocess.run(  # noqa: S603
        [str(UV), "build", "--wheel", "--out-dir", str(tmp_path), str(ROOT)], check=True, capture_output=True
    )
    [wheel] = tmp_path.glob("contactgraph-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        [entry_points] = [n for n in names if n.endswith("entry_points.txt")]
        assert "contactgraph = app.cli:main" in archive.read(entry_points).decode()
    assert {"app/cli.py", "app/main.py", "app/static/graphiql/graphiql.min.js"} <= names
    assert "app/static/graphiql/react-dom.production.min.js" in names


def test_the_container_files_run_the_gateway_and_a_worker_on_a_replica_set() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    compose = (ROOT / "compose.yaml").read_text()
    assert 'CMD ["contactgraph", "serve"]' in dockerfile
    assert "uv sync --locked --no-dev" in dockerfile
    assert '--replSet", "rs0"' in compose
    assert 'command: ["contactgraph", "worker"]' in compose
    assert "MONGODB_URI: mongodb://mongo:27017/?replicaSet=rs0" in compose
