"""Credentials a queued job needs later (an FTP/SFTP password or key), sealed with Fernet
(AES-128-CBC + HMAC-SHA256, from ``cryptography``) so that the job document, its API output
and every log line hold ciphertext only, and a worker on another machine or after a restart
can still open them.

The key comes from ``CONTACTGRAPH_SECRETS_KEY`` (one or more Fernet keys, comma-separated:
the first seals, all open, for rotation). In development without it, a key is generated
once into ``<data dir>/secrets.key`` (mode 0600). In production without it there is no
box: features that need one refuse with a message naming the setting."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from app.settings import Settings

KEY_FILE = "secrets.key"


class SealedUnreadable(Exception):
    """The token was sealed with a key this process does not have (or was altered)."""


class SecretsBox:
    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("at least one key is required")
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    def seal(self, value: dict[str, Any]) -> str:
        return self._fernet.encrypt(orjson.dumps(value)).decode()

    def open(self, token: str) -> dict[str, Any]:
        try:
            opened: dict[str, Any] = orjson.loads(self._fernet.decrypt(token.encode()))
        except (InvalidToken, orjson.JSONDecodeError) as exc:
            raise SealedUnreadable("sealed with another key") from exc
        return opened

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretsBox | None:
        if settings.secrets_key is not None:
            keys = [
                k.strip().encode() for k in settings.secrets_key.get_secret_value().split(",") if k.strip()
            ]
            return cls(keys)
        if settings.is_production:
            return None
        return cls([_development_key(settings.data_dir)])


def _development_key(data_dir: Path) -> bytes:
    path = data_dir / KEY_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as file:
        file.write(key)
    return key
