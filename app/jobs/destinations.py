"""Where a profile export goes (Cordial's ``destination``): ``aws`` or nothing keeps the
file downloadable from the job (resultUrl); ``ftp`` and ``sftp`` upload the JSON file to
``<path>/<filename>`` on the given server. Missing parameters are VALIDATION_ERRORs with
the reference's messages. The password or private key is sealed (app.secrets_box) before
the job is stored, and opened only by the worker that uploads; it never reaches a job's
API output or a log line. A failed upload ends the job FAILED with a reason a person can
act on (which server, which step, what to check), without the credentials.

Clients: asyncssh (SFTP; no local agent, keys or ssh config are used, only what the
destination gives; the host key is checked when ``hostKey`` is given) and aioftp (FTP)."""

from __future__ import annotations

import asyncio
import posixpath
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aioftp
import asyncssh

from app.errors import ErrorCode, Problem

TYPES = ("aws", "ftp", "sftp")
CONNECT_TIMEOUT_S = 30.0
MAX_FIELD_LENGTH = 1024
MAX_KEY_LENGTH = 16_384


@dataclass(frozen=True, slots=True)
class DestinationData:
    """The destination as the caller sent it."""

    type: str = "aws"
    server: str | None = None
    port: int | None = None
    username: str | None = None
    password: str | None = None
    key: str | None = None
    path: str | None = None
    host_key: str | None = None

    @property
    def uploads(self) -> bool:
        return self.type in ("ftp", "sftp")


def check_destination(d: DestinationData, where: tuple[str, ...] = ("destination",)) -> list[Problem]:
    """The reference's VALIDATION_ERRORs for a destination, each naming its field."""

    def problem(field: str, message: str) -> Problem:
        return Problem(ErrorCode.VALIDATION_ERROR, message, (*where, field))

    if d.type not in TYPES:
        return [problem("type", f"Parameter type must be one of {', '.join(TYPES)}")]
    if not d.uploads:
        return []
    problems: list[Problem] = []
    if not d.server:
        problems.append(problem("server", "Parameter server is not set"))
    if d.port is None:
        problems.append(problem("port", "Parameter port is not set"))
    elif not 1 <= d.port <= 65535:
        problems.append(problem("port", f"Parameter port must be 1-65535, got {d.port}"))
    if not d.username:
        problems.append(problem("username", "Parameter username is not set"))
    if d.type == "sftp" and not (d.password or d.key):
        problems.append(problem("password", "Parameter password or key should be provided"))
    if d.type == "ftp" and not d.password:
        problems.append(problem("password", "Parameter password is not set"))
    if d.type == "ftp" and d.key:
        problems.append(problem("key", "Parameter key applies to sftp only"))
    if not d.path:
        problems.append(problem("path", "Parameter path is not set"))
    for name in ("server", "username", "password", "path"):
        value = getattr(d, name)
        if value is not None and len(value) > MAX_FIELD_LENGTH:
            problems.append(problem(name, f"Parameter {name} is at most {MAX_FIELD_LENGTH} characters"))
    if d.key is not None:
        if len(d.key) > MAX_KEY_LENGTH:
            problems.append(problem("key", f"Parameter key is at most {MAX_KEY_LENGTH} characters"))
        else:
            try:
                asyncssh.import_private_key(d.key)
            except (asyncssh.KeyImportError, ValueError):
                problems.append(
                    problem("key", "Parameter key is not a private key (OpenSSH or PEM, unencrypted)")
                )
    if d.host_key is not None:
        try:
            asyncssh.import_public_key(d.host_key)
        except (asyncssh.KeyImportError, ValueError):
            problems.append(
                problem("hostKey", "Parameter hostKey is not a public key ('ssh-ed25519 AAAA...')")
            )
    return problems


def public_part(d: DestinationData) -> dict[str, Any]:
    """What the job document keeps in clear: everything but the password and key."""
    return {"type": d.type, "server": d.server, "port": d.port, "username": d.username, "path": d.path,
            "hostKey": d.host_key}  # fmt: skip


def secret_part(d: DestinationData) -> dict[str, Any]:
    return {"password": d.password, "key": d.key}


def location(public: dict[str, Any], filename: str) -> str:
    """Where the file went, for the job's result: ``sftp://user@server:port/path/file``."""
    remote = posixpath.join("/", public["path"], filename)
    return f"{public['type']}://{public['username']}@{public['server']}:{public['port']}{remote}"


class UploadFailed(Exception):
    """An upload that did not happen; the message says what to check (no credentials)."""


async def upload(
    public: dict[str, Any], secret: dict[str, Any], filename: str, chunks: AsyncIterator[bytes]
) -> int:
    """Send ``chunks`` to ``<path>/<filename>`` on the destination; the bytes sent."""
    target = f"{public['type'].upper()} server {public['server']}:{public['port']}"
    remote = posixpath.join(public["path"], filename)
    try:
        if public["type"] == "sftp":
            return await _sftp(public, secret, remote, chunks)
        return await _ftp(public, secret, remote, chunks)
    except UploadFailed as exc:
        raise UploadFailed(f"Upload to {target} failed: {exc}") from None
    except TimeoutError:
        raise UploadFailed(
            f"Upload to {target} failed: no answer within {CONNECT_TIMEOUT_S:.0f} s; check server and port"
        ) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UploadFailed(f"Upload to {target} failed: {reason}; check server and port") from None


async def _sftp(
    public: dict[str, Any], secret: dict[str, Any], remote: str, chunks: AsyncIterator[bytes]
) -> int:
    keys = [asyncssh.import_private_key(secret["key"])] if secret.get("key") else []
    known_hosts: Any = None
    if public.get("hostKey"):
        known_hosts = ([asyncssh.import_public_key(public["hostKey"])], [], [])
    try:
        async with (
            asyncssh.connect(
                public["server"],
                public["port"],
                username=public["username"],
                password=secret.get("password"),
                client_keys=keys,
                known_hosts=known_hosts,
                agent_path=None,
                config=[],
                connect_timeout=CONNECT_TIMEOUT_S,
                login_timeout=CONNECT_TIMEOUT_S,
            ) as connection,
            connection.start_sftp_client() as sftp,
        ):
            sent = 0
            async with sftp.open(remote, "wb") as file:
                async for chunk in chunks:
                    await file.write(chunk)
                    sent += len(chunk)
            return sent
    except asyncssh.PermissionDenied:
        raise UploadFailed(
            f"authentication failed for user {public['username']!r}; check username, password or key"
        ) from None
    except asyncssh.HostKeyNotVerifiable:
        raise UploadFailed("the server's host key is not the hostKey given") from None
    except asyncssh.SFTPError as exc:
        raise UploadFailed(f"could not write {remote}: {exc.reason}; check path and permissions") from None
    except asyncssh.Error as exc:
        raise UploadFailed(f"SSH error: {exc.reason}") from None


async def _ftp(
    public: dict[str, Any], secret: dict[str, Any], remote: str, chunks: AsyncIterator[bytes]
) -> int:
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_S * 2):
            client = aioftp.Client(socket_timeout=CONNECT_TIMEOUT_S, connection_timeout=CONNECT_TIMEOUT_S)
            await client.connect(public["server"], public["port"])
        try:
            try:
                await client.login(public["username"], secret["password"])
            except aioftp.StatusCodeError:
                raise UploadFailed(
                    f"authentication failed for user {public['username']!r}; check username and password"
                ) from None
            sent = 0
            try:
                async with client.upload_stream(remote) as stream:
                    async for chunk in chunks:
                        await stream.write(chunk)
                        sent += len(chunk)
            except aioftp.StatusCodeError as exc:
                raise UploadFailed(
                    f"could not write {remote} ({' '.join(exc.info).strip()}); check path and permissions"
                ) from None
            return sent
        finally:
            client.close()
    except aioftp.StatusCodeError as exc:
        raise UploadFailed(f"the server refused: {' '.join(exc.info).strip()}") from None
