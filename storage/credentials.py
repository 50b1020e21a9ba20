"""Credentials encrypted with Fernet. The key comes from SITREP_SECRET_KEY, else SITREP_KEY_FILE, else (SQLite only)
a 0600 key file beside the database, generated once.

Values are stored per (team, integration, name). With PostgreSQL the key must be given, since every replica needs
the same one. A `key_check` row detects a wrong key at start-up (SecretKeyError) instead of garbage later.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from settings import StartupError
from storage.audit import AuditLog, mask
from storage.db import Database

_CHECK_PLAINTEXT = b"sitrep key check v1"


class SecretKeyError(StartupError):
    """The secret key is malformed, or is not the key the stored credentials were encrypted with."""


_GENERATE = "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"


def load_or_create_key(secret_key: str | None, key_file: Path | None, *, create: bool = True) -> tuple[bytes, str]:
    """Return (key, where it came from). Generates the key file once, with mode 0600, when there is no key and
    `create` is set (one process on SQLite); replicas sharing PostgreSQL must be given the same key instead."""
    if secret_key:
        return _checked(secret_key.encode(), "SITREP_SECRET_KEY"), "SITREP_SECRET_KEY"
    if key_file is None:
        raise SecretKeyError(
            "with a PostgreSQL SITREP_DB every replica needs the same secret key: set SITREP_SECRET_KEY "
            f"(generate one with {_GENERATE}), or SITREP_KEY_FILE to a file that holds it"
        )
    if key_file.exists():
        return _checked(key_file.read_bytes().strip(), str(key_file)), str(key_file)
    if not create:
        raise SecretKeyError(
            f"SITREP_KEY_FILE {key_file} does not exist: put the key there (every replica the same; generate one "
            f"with {_GENERATE}), or set SITREP_SECRET_KEY"
        )
    key = Fernet.generate_key()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    os.chmod(key_file, 0o600)
    return key, str(key_file)


def _checked(key: bytes, source: str) -> bytes:
    try:
        Fernet(key)
    except (ValueError, TypeError):
        raise SecretKeyError(
            f"{source} is not a Fernet key (32 url-safe base64-encoded bytes); generate one with " + _GENERATE
        ) from None
    return key


class CredentialStore:
    """Per-team secrets by (integration, name). Values are only ever returned to the code that uses them."""

    def __init__(self, db: Database, audit: AuditLog, key: bytes, key_source: str) -> None:
        self.db = db
        self.audit = audit
        self._fernet = Fernet(key)
        self.key_source = key_source

    async def verify_key(self) -> None:
        """Fail with a clear SecretKeyError when this key cannot read what an earlier key wrote."""
        row = await self.db.fetchone("SELECT token FROM key_check WHERE id = 1")
        if row is None:
            async with self.db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO key_check (id, token) VALUES (1, ?) ON CONFLICT (id) DO NOTHING",
                    (self._fernet.encrypt(_CHECK_PLAINTEXT),),
                )
            return
        try:
            ok = self._fernet.decrypt(row["token"]) == _CHECK_PLAINTEXT
        except InvalidToken:
            ok = False
        if not ok:
            raise self._wrong_key()

    def _wrong_key(self) -> SecretKeyError:
        return SecretKeyError(
            f"stored credentials in {self.db.label} were encrypted with another key than the one in "
            f"{self.key_source}; set SITREP_SECRET_KEY to the original key, or start with a new SITREP_DB"
        )

    async def set(self, team_id: str, integration: str, name: str, value: str, actor: str) -> None:
        token = self._fernet.encrypt(value.encode())
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO credentials (team_id, integration, name, ciphertext, updated_by)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (team_id, integration, name) DO UPDATE SET"
                " ciphertext = excluded.ciphertext, updated_by = excluded.updated_by,"
                " updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')",
                (team_id, integration, name, token, actor),
            )
            await self.audit.record(
                conn, team_id, actor, "credential.set", {"credential": f"{integration}.{name}", "value": mask(value)}
            )

    async def delete(self, team_id: str, integration: str, name: str, actor: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "DELETE FROM credentials WHERE team_id = ? AND integration = ? AND name = ?",
                (team_id, integration, name),
            )
            await self.audit.record(conn, team_id, actor, "credential.delete", {"credential": f"{integration}.{name}"})

    async def get(self, team_id: str, integration: str, name: str) -> str | None:
        row = await self.db.fetchone(
            "SELECT ciphertext FROM credentials WHERE team_id = ? AND integration = ? AND name = ?",
            (team_id, integration, name),
        )
        return None if row is None else self._decrypt(row["ciphertext"])

    async def get_all(self, team_id: str, integration: str) -> dict[str, str]:
        rows = await self.db.fetchall(
            "SELECT name, ciphertext FROM credentials WHERE team_id = ? AND integration = ?",
            (team_id, integration),
        )
        return {r["name"]: self._decrypt(r["ciphertext"]) for r in rows}

    async def all_values(self) -> list[str]:
        """Every stored secret value (for redaction of outgoing text)."""
        rows = await self.db.fetchall("SELECT ciphertext FROM credentials")
        return [self._decrypt(r["ciphertext"]) for r in rows]

    def _decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken:
            raise self._wrong_key() from None
