"""contactProfileExport(destination): the reference's ftp/sftp destinations, uploaded by the
worker to real servers on loopback (asyncssh's SFTP server, pyftpdlib's FTP server), with
the credentials sealed until then and shown nowhere."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncssh
import bson
import orjson
import pytest
from cryptography.fernet import Fernet
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import ThreadedFTPServer

from app.contacts.refs import IdentifierKeys
from app.db import JOBS
from app.errors import DomainError
from app.jobs.destinations import DestinationData
from app.jobs.exports import create_profile_export
from app.jobs.handlers import HANDLERS
from app.jobs.runner import JobRunner
from app.secrets_box import SecretsBox
from app.settings import Settings
from app.tenant import Tenant
from tests.conftest import Api, email_contact

PASSWORD = "s3cret-Pa55word"
EXPORT = """mutation($ref: String!, $d: ExportDestinationInput) {
  contactProfileExport(ref: $ref, destination: $d) {
    job { id state } userErrors { field message code } } }"""
JOB = """query($id: ID!) { job(id: $id) { state result resultUrl errors } }"""


@dataclass
class Server:
    port: int
    root: Path
    host_key: str = ""


class _SshServer(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == "alice" and password == PASSWORD


@pytest.fixture
def client_key() -> asyncssh.SSHKey:
    return asyncssh.generate_private_key("ssh-ed25519")


@pytest.fixture
async def sftp(tmp_path: Path, client_key: asyncssh.SSHKey) -> AsyncIterator[Server]:
    root = tmp_path / "sftp"
    (root / "exports").mkdir(parents=True)
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    authorized = asyncssh.import_authorized_keys(client_key.export_public_key().decode())
    server = await asyncssh.create_server(
        _SshServer,
        "127.0.0.1",
        0,
        server_host_keys=[host_key],
        authorized_client_keys=authorized,
        sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(root).encode()),
    )
    port = server.sockets[0].getsockname()[1]
    yield Server(port, root, host_key.export_public_key().decode().strip())
    server.close()
    await server.wait_closed()


@pytest.fixture
def ftp(tmp_path: Path) -> Iterator[Server]:
    root = tmp_path / "ftp"
    (root / "exports").mkdir(parents=True)
    authorizer = DummyAuthorizer()
    authorizer.add_user("bob", PASSWORD, str(root), perm="elradfmw")
    handler = type("Handler", (FTPHandler,), {"authorizer": authorizer})
    server = ThreadedFTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.05}, daemon=True)
    thread.start()
    yield Server(server.address[1], root)
    server.close_all()
    thread.join(5)


@pytest.fixture
def worker(api: Api, settings: Settings) -> JobRunner:
    # a box built apart from the app's, from the same settings: as a worker process would
    box = SecretsBox.from_settings(settings)
    return JobRunner(api.db, HANDLERS, lease=timedelta(seconds=30), owner="w", secrets=box)


@pytest.fixture
async def cid(api: Api, key: str) -> str:
    [cid] = await api.contacts("acme", email_contact("msmith@example.com", supplements={"s": 1}))
    return str(cid)


async def export(api: Api, key: str, destination: dict[str, Any] | None) -> dict[str, Any]:
    data = await api.ok(EXPORT, {"ref": "email:msmith@example.com", "d": destination}, key=key)
    payload: dict[str, Any] = data["contactProfileExport"]
    return payload


async def run(api: Api, key: str, worker: JobRunner, destination: dict[str, Any]) -> dict[str, Any]:
    created = await export(api, key, destination)
    assert created["userErrors"] == [], created["userErrors"]
    await worker.run_once()
    job: dict[str, Any] = (await api.ok(JOB, {"id": created["job"]["id"]}, key=key))["job"]
    return job


def sftp_destination(server: Server, **more: Any) -> dict[str, Any]:
    # the reference's example, pointed at the test server
    return {"type": "SFTP", "server": "127.0.0.1", "port": server.port, "username": "alice",
            "password": PASSWORD, "path": "/exports", **more}  # fmt: skip


async def test_the_reference_sftp_example_uploads_the_profile(
    api: Api, key: str, worker: JobRunner, sftp: Server, cid: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = await export(api, key, sftp_destination(sftp))
    queued = await api.db[JOBS].find_one({})
    await worker.run_once()
    job = (await api.ok(JOB, {"id": created["job"]["id"]}, key=key))["job"]
    stored = await api.db[JOBS].find_one({})

    assert job["state"] == "COMPLETED", job["errors"]
    assert job["resultUrl"] is None
    assert job["result"]["destination"] == f"sftp://alice@127.0.0.1:{sftp.port}/exports/profile-{cid}.json"
    uploaded = orjson.loads((sftp.root / "exports" / f"profile-{cid}.json").read_bytes())
    assert (uploaded["cID"], uploaded["contact"]["supplements"]) == (cid, {"s": 1})
    assert job["result"]["size"] == (sftp.root / "exports" / f"profile-{cid}.json").stat().st_size
    # the password is sealed while queued, gone once used, and never in clear anywhere
    assert queued is not None
    assert stored is not None
    assert queued["input"]["destination"]["sealed"]
    assert "sealed" not in stored["input"]["destination"]
    for doc in (queued, stored):
        assert PASSWORD.encode() not in bson.encode(doc)
    assert PASSWORD not in orjson.dumps(job).decode()
    assert PASSWORD not in caplog.text


async def test_sftp_with_a_private_key_and_a_checked_host_key(
    api: Api, key: str, worker: JobRunner, sftp: Server, cid: str, client_key: asyncssh.SSHKey
) -> None:
    private = client_key.export_private_key().decode()
    job = await run(
        api, key, worker, sftp_destination(sftp, password=None, key=private, hostKey=sftp.host_key)
    )
    stored = await api.db[JOBS].find_one({})

    assert job["state"] == "COMPLETED", job["errors"]
    assert (sftp.root / "exports" / f"profile-{cid}.json").exists()
    assert stored is not None
    assert private.encode() not in bson.encode(stored)


async def test_ftp_uploads_the_profile(api: Api, key: str, worker: JobRunner, ftp: Server, cid: str) -> None:
    destination = {"type": "FTP", "server": "127.0.0.1", "port": ftp.port, "username": "bob",
                   "password": PASSWORD, "path": "exports"}  # fmt: skip

    job = await run(api, key, worker, destination)

    assert job["state"] == "COMPLETED", job["errors"]
    assert job["result"]["destination"] == f"ftp://bob@127.0.0.1:{ftp.port}/exports/profile-{cid}.json"
    assert orjson.loads((ftp.root / "exports" / f"profile-{cid}.json").read_bytes())["cID"] == cid


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("kind", "change", "reason"),
    [
        (
            "sftp",
            {"password": "wrong"},
            "authentication failed for user 'alice'; check username, password or key",
        ),
        ("sftp", {"path": "/missing"}, "could not write /missing/profile-"),
        ("sftp", {"hostKey": "HOSTKEY_OF_ANOTHER"}, "the server's host key is not the hostKey given"),
        ("sftp", {"port": "CLOSED"}, "check server and port"),
        ("ftp", {"password": "wrong"}, "authentication failed for user 'bob'; check username and password"),
        ("ftp", {"path": "missing"}, "could not write missing/profile-"),
        ("ftp", {"port": "CLOSED"}, "check server and port"),
    ],
)
async def test_a_failed_upload_fails_the_job_with_a_reason_to_act_on(
    api: Api,
    key: str,
    worker: JobRunner,
    sftp: Server,
    ftp: Server,
    cid: str,
    kind: str,
    change: dict[str, Any],
    reason: str,
) -> None:
    server = sftp if kind == "sftp" else ftp
    user = "alice" if kind == "sftp" else "bob"
    destination = {"type": kind.upper(), "server": "127.0.0.1", "port": server.port, "username": user,
                   "password": PASSWORD, "path": "/exports" if kind == "sftp" else "exports", **change}  # fmt: skip
    if destination["port"] == "CLOSED":
        destination["port"] = _closed_port()
    if destination.get("hostKey") == "HOSTKEY_OF_ANOTHER":
        destination["hostKey"] = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()

    job = await run(api, key, worker, destination)

    assert job["state"] == "FAILED"
    [error] = job["errors"]
    assert error.startswith(f"Upload to {kind.upper()} server 127.0.0.1:"), error
    assert reason in error
    assert PASSWORD not in error
    assert list((server.root / "exports").iterdir()) == []
    stored = await api.db[JOBS].find_one({})
    assert stored is not None
    assert "sealed" not in stored["input"]["destination"]


async def test_missing_parameters_are_the_references_validation_errors(api: Api, key: str, cid: str) -> None:
    sftp = await export(api, key, {"type": "SFTP"})
    ftp = await export(api, key, {"type": "FTP", "server": "ftp.example.com", "port": 70000, "key": "x"})

    assert [(e["field"][-1], e["message"], e["code"]) for e in sftp["userErrors"]] == [
        ("server", "Parameter server is not set", "VALIDATION_ERROR"),
        ("port", "Parameter port is not set", "VALIDATION_ERROR"),
        ("username", "Parameter username is not set", "VALIDATION_ERROR"),
        ("password", "Parameter password or key should be provided", "VALIDATION_ERROR"),
        ("path", "Parameter path is not set", "VALIDATION_ERROR"),
    ]
    assert [e["message"] for e in ftp["userErrors"]] == [
        "Parameter port must be 1-65535, got 70000",
        "Parameter username is not set",
        "Parameter password is not set",
        "Parameter key applies to sftp only",
        "Parameter path is not set",
        "Parameter key is not a private key (OpenSSH or PEM, unencrypted)",
    ]
    assert sftp["job"] is None
    assert await api.db[JOBS].count_documents({}) == 0


async def test_aws_or_no_destination_keeps_the_file_downloadable(
    api: Api, key: str, worker: JobRunner, cid: str
) -> None:
    for destination in (None, {"type": "AWS"}):
        job = await run(api, key, worker, destination)  # type: ignore[arg-type]
        assert job["state"] == "COMPLETED"
        assert job["resultUrl"].endswith("/downloads/jobs/" + job["resultUrl"].rsplit("/", 1)[1])
        assert "destination" not in job["result"]


async def test_without_a_secrets_key_uploads_are_refused_before_a_job_exists(
    api: Api, key: str, cid: str
) -> None:
    keys = IdentifierKeys(primary="email", secondary=(), types={})
    destination = DestinationData("sftp", "h", 22, "u", PASSWORD, None, "/")

    with pytest.raises(DomainError) as refused:
        await create_profile_export(
            Tenant("acme", api.db), keys, "msmith@example.com", destination, secrets=None
        )

    assert refused.value.problems[0].message == (
        "FTP/SFTP destinations need CONTACTGRAPH_SECRETS_KEY set on this server"
    )
    assert await api.db[JOBS].count_documents({}) == 0


async def test_a_worker_with_another_key_fails_the_job_and_says_why(
    api: Api, key: str, sftp: Server, cid: str
) -> None:
    stranger = SecretsBox([Fernet.generate_key()])
    worker = JobRunner(api.db, HANDLERS, owner="w2", secrets=stranger)

    job = await run(api, key, worker, sftp_destination(sftp))

    assert job["state"] == "FAILED"
    assert job["errors"] == [
        "The destination's credentials were sealed with another CONTACTGRAPH_SECRETS_KEY "
        "(or were already used): export again"
    ]
