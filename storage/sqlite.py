"""The SQLite backend: one aiosqlite connection (WAL, foreign keys, busy timeout); writers take BEGIN IMMEDIATE."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from storage.sql import SQLITE, migration_files, split_sql, sqlite_sql

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
BEGIN_RETRY_DELAYS = (0.02, 0.05, 0.1, 0.2, 0.4, 0.8)


class SqliteConnection:
    """The connection a transaction hands out: aiosqlite's, with the SQLite translation applied to each statement."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> Any:
        return self._conn.execute(sqlite_sql(sql), params)

    async def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> Any:
        return await self._conn.executemany(sqlite_sql(sql), rows)


class SqliteDriver:
    backend = SQLITE

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self.label = f"SQLite {path}"
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> SqliteDriver:
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        try:
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # Switching to WAL takes the lock without the busy handler: replicas opening at once may see "locked"
            await _while_locked(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            await conn.close()  # its thread would keep the process alive
            raise
        return cls(conn, path)

    async def close(self) -> None:
        await self.conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteConnection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on error. Takes the write lock at once.

        aiosqlite runs every statement queued, in order, even when the coroutine that queued it was cancelled: a
        writer cancelled while its BEGIN waits still gets the BEGIN run, and a COMMIT can fail (a deferred
        constraint) and leave the transaction open. So unless the COMMIT went through, a ROLLBACK is queued before
        the lock is let go; it runs after whatever this writer queued and before any later writer's BEGIN, so the
        next writer always starts on a connection outside a transaction.
        """
        async with self._write_lock:
            committed = False
            try:
                await self._begin()
                yield SqliteConnection(self.conn)
                await self.conn.execute("COMMIT")
                committed = True
            finally:
                if not committed:
                    await self._rollback()

    async def _begin(self) -> None:
        """BEGIN IMMEDIATE, retried with backoff while another process holds the lock past the busy timeout, or
        SQLite answers "locked" without waiting (it does, in WAL mode, when another connection is mid-commit)."""
        await _while_locked(lambda: self.conn.execute("BEGIN IMMEDIATE"))

    async def _rollback(self) -> None:
        """ROLLBACK if a transaction is open once the statements queued before it have run. Never raises: the
        error that ended the transaction is the one to see; SQLite has already rolled back when it answers that no
        transaction is active (after a failed BEGIN, or an error that ends the transaction itself)."""
        try:  # cancelled again while waiting: the ROLLBACK is queued all the same, and runs in order
            await self.conn.execute("ROLLBACK")
        except sqlite3.Error as exc:
            if "no transaction is active" not in str(exc):
                log.warning("ROLLBACK failed: %s", exc)

    async def fetchone(self, sql: str, params: Any = ()) -> Any:
        async with self.conn.execute(sqlite_sql(sql), params) as cur:
            return await cur.fetchone()

    async def fetchall(self, sql: str, params: Any = ()) -> list[Any]:
        async with self.conn.execute(sqlite_sql(sql), params) as cur:
            return list(await cur.fetchall())

    async def tables(self) -> list[str]:
        """User tables in creation order (so a table comes after the ones it references)."""
        rows = await self.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
        )
        return [r["name"] for r in rows]

    async def reset_sequences(self, conn: Any, table: str) -> None:
        """Nothing to do: SQLite's AUTOINCREMENT follows the largest id inserted."""

    async def migrate(self) -> list[str]:
        """Apply every migration not yet recorded in schema_migrations, in number order. Idempotent."""
        applied: list[str] = []
        async with self._write_lock:
            await _while_locked(
                lambda: self.conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                    " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
                )
            )
        for version, file in migration_files():
            async with self.transaction() as conn:
                async with conn.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (version,)) as cur:
                    if await cur.fetchone():
                        continue
                for statement in split_sql(file.read_text()):
                    await conn.execute(statement)
                await conn.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", (version, file.name))
                applied.append(file.name)
                log.debug("applied migration %s", file.name)
        return applied


async def _while_locked(statement: Callable[[], Awaitable[Any]]) -> None:
    """Run a statement that takes the write lock (BEGIN IMMEDIATE, or one outside a transaction), again with
    backoff while another connection holds the lock past the busy timeout."""
    for delay in (*BEGIN_RETRY_DELAYS, None):
        try:
            await statement()
            return
        except sqlite3.OperationalError as exc:
            if delay is None or ("locked" not in str(exc) and "busy" not in str(exc)):
                raise
            log.debug("SQLite: %s; again in %.2f s", exc, delay)
            await asyncio.sleep(delay)
