"""SQLite connection (WAL, foreign keys, busy timeout) and numbered migrations applied in order."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
BUSY_TIMEOUT_MS = 5000


class Database:
    """One aiosqlite connection; writes go through `transaction()`, which serialises writers in-process."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path, *, migrate: bool = True) -> Database:
        path = Path(path)
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        db = cls(conn, path)
        try:
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA synchronous = NORMAL")
            if migrate:
                await db.migrate()
        except BaseException:
            await conn.close()  # its thread would keep the process alive
            raise
        return db

    async def close(self) -> None:
        await self.conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on error. Takes the write lock at once."""
        async with self._write_lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            else:
                await self.conn.execute("COMMIT")

    async def fetchone(self, sql: str, params: tuple | dict = ()) -> aiosqlite.Row | None:
        async with self.conn.execute(sql, params) as cur:
            return await cur.fetchone()

    async def fetchall(self, sql: str, params: tuple | dict = ()) -> list[aiosqlite.Row]:
        async with self.conn.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def migrate(self) -> list[str]:
        """Apply every migration not yet recorded in schema_migrations, in number order. Idempotent."""
        applied: list[str] = []
        async with self._write_lock:
            await self.conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
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


def migration_files() -> list[tuple[int, Path]]:
    files = []
    for file in MIGRATIONS_DIR.glob("*.sql"):
        match = _NAME.match(file.name)
        if not match:
            raise RuntimeError(f"migration file name {file.name!r} must look like 0001_name.sql")
        files.append((int(match.group(1)), file))
    files.sort()
    versions = [v for v, _ in files]
    if len(set(versions)) != len(versions):
        raise RuntimeError("two migrations share a number")
    return files


def split_sql(script: str) -> list[str]:
    """Split a migration into statements (our migrations use no semicolons inside literals or triggers)."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
