"""Start and stop the embedded SecantusDB server as a child process.

SecantusDB (GPL-2.0, the ``embedded`` extra) is never imported: it is run as
``secantusd-py`` next to this interpreter and spoken to over the MongoDB wire protocol.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from pymongo import MongoClient
from pymongo.errors import PyMongoError

log = logging.getLogger(__name__)

PORT_FILE = "secantus.port"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _executable() -> str:
    beside = Path(sys.executable).parent / "secantusd-py"
    if beside.exists():
        return str(beside)
    found = shutil.which("secantusd-py")
    if not found:
        raise RuntimeError(
            "secantusd-py not found: install the embedded extra (make install), "
            "or set MONGODB_URI to a MongoDB replica set"
        )
    return found


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: the server gets SIGTERM if this process dies without stopping it."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def uri_for(port: int) -> str:
    return f"mongodb://127.0.0.1:{port}/?directConnection=true"


def ping(uri: str, timeout_ms: int = 500) -> bool:
    client: MongoClient[dict[str, object]] = MongoClient(uri, serverSelectionTimeoutMS=timeout_ms)
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def running_uri(data_dir: Path) -> str | None:
    """The URI of an embedded server already serving ``data_dir`` (e.g. from `make run`)."""
    port_file = data_dir / PORT_FILE
    try:
        port = int(port_file.read_text().strip())
    except (OSError, ValueError):
        return None
    uri = uri_for(port)
    return uri if ping(uri) else None


class EmbeddedMongo:
    """A SecantusDB child process; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        storage: Path | None,
        *,
        test_commands: bool = False,
        startup_timeout_s: float = 30.0,
        port: int | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.storage = storage
        self.extra_args = tuple(extra_args)
        self.test_commands = test_commands
        self.startup_timeout_s = startup_timeout_s
        self.port = port or _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._config_dir: tempfile.TemporaryDirectory[str] | None = None
        self._log_file: Path | None = None

    @property
    def uri(self) -> str:
        return uri_for(self.port)

    def start(self) -> str:
        storage_arg = ":memory:"
        if self.storage is not None:
            self.storage.mkdir(parents=True, exist_ok=True)
            storage_arg = str(self.storage / "db")
        # Our own (empty) config file: it keeps the server from picking up a stray
        # secantusd.toml from the working directory.
        self._config_dir = tempfile.TemporaryDirectory(prefix="contactgraph-secantus-")
        config = Path(self._config_dir.name) / "secantusd.toml"
        config.write_text("# written by contactgraph: command-line flags only\n")
        cmd = [
            _executable(),
            "--config", str(config),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--storage-path", storage_arg,
            "--log-level", "WARNING",
        ]  # fmt: skip
        if self.test_commands:
            cmd.append("--enable-test-commands")
        cmd.extend(self.extra_args)
        log_dir = self.storage if self.storage is not None else Path(os.devnull).parent
        self._log_file = log_dir / "secantus.log" if self.storage is not None else None
        log_out = open(self._log_file, "ab") if self._log_file else None  # noqa: SIM115 - the child's, closed below
        log.info("starting embedded database", extra={"port": self.port, "storage": storage_arg})
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            cmd,
            stdout=log_out if log_out is not None else subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches us; we stop the child ourselves
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        if log_out is not None:
            log_out.close()
        self._wait_ready()
        if self.storage is not None:
            (self.storage / PORT_FILE).write_text(str(self.port))
        return self.uri

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"embedded database exited with code {self.process.returncode}"
                    + (f"; see {self._log_file}" if self._log_file else "")
                )
            if ping(self.uri, timeout_ms=250):
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"embedded database did not answer ping in {self.startup_timeout_s}s")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if self.storage is not None:
            with contextlib.suppress(OSError):
                (self.storage / PORT_FILE).unlink()
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._config_dir is not None:
            self._config_dir.cleanup()
        log.info("embedded database stopped")

    def __enter__(self) -> EmbeddedMongo:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
