"""The database every store uses: SQLite (a file, the default) or PostgreSQL (a URL, shared by replicas).

One API over both: `fetchone`/`fetchall` for reads, `execute` for one write, `transaction()` for several
(BEGIN IMMEDIATE on SQLite; on PostgreSQL a transaction holding the database-wide write lock, so the same store
code is safe on both), `migrate()` for the numbered migrations in `storage/migrations/`. Rows are read by column
name (`row["id"]`) or position; `row_dict(row)` makes a plain dict.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.postgres import PgDriver
from storage.sql import (
    NOW,
    POSTGRESQL,
    SQLITE,
    DatabaseUnavailable,
    backend_of,
    migration_files,
    row_dict,
    safe_url,
    split_sql,
)
from storage.sqlite import SqliteDriver

__all__ = [
    "NOW",
    "POSTGRESQL",
    "SQLITE",
    "Database",
    "DatabaseUnavailable",
    "StatementResult",
    "backend_of",
    "migration_files",
    "row_dict",
    "safe_url",
    "split_sql",
]


@dataclass(frozen=True)
class StatementResult:
    rowcount: int
    lastrowid: int | None


class Database:
    def __init__(self, driver: SqliteDriver | PgDriver) -> None:
        self.driver = driver

    @classmethod
    async def open(cls, target: str | Path, *, migrate: bool = True) -> Database:
        """A SQLite file path, or a postgresql:// URL; migrated unless told not to."""
        driver: SqliteDriver | PgDriver
        if backend_of(target) == POSTGRESQL:
            driver = await PgDriver.open(str(target))
        else:
            driver = await SqliteDriver.open(Path(target))
        db = cls(driver)
        if migrate:
            try:
                await db.migrate()
            except BaseException:
                await driver.close()
                raise
        return db

    @property
    def backend(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.driver.backend

    @property
    def label(self) -> str:
        """Which database, for messages: "SQLite sitrep.db", "PostgreSQL postgresql://sitrep:***@db/sitrep"."""
        return self.driver.label

    @property
    def path(self) -> Path | None:
        """The SQLite file (None on PostgreSQL)."""
        return self.driver.path

    async def close(self) -> None:
        await self.driver.close()

    def transaction(self) -> Any:
        """`async with db.transaction() as conn:` then `await conn.execute(sql, params)`; committed at the end,
        rolled back on error. One writer at a time, across processes."""
        return self.driver.transaction()

    async def fetchone(self, sql: str, params: tuple | list | dict = ()) -> Any:
        return await self.driver.fetchone(sql, params)

    async def fetchall(self, sql: str, params: tuple | list | dict = ()) -> list[Any]:
        return await self.driver.fetchall(sql, params)

    async def execute(self, sql: str, params: tuple | list | dict = ()) -> StatementResult:
        """One write statement in its own transaction."""
        async with self.transaction() as conn:
            cur = await conn.execute(sql, params)
            return StatementResult(cur.rowcount, cur.lastrowid)

    async def migrate(self) -> list[str]:
        """Apply every migration not yet recorded in schema_migrations, in number order. Idempotent."""
        return await self.driver.migrate()

    async def pending_migrations(self) -> list[str]:
        """The migration files of this build not recorded in schema_migrations (one read; raises when the database
        cannot be reached). Empty once `migrate()` has run here or on another replica."""
        rows = await self.fetchall("SELECT version FROM schema_migrations")
        done = {int(row[0]) for row in rows}
        return [file.name for version, file in migration_files() if version not in done]

    async def ping(self) -> float:
        """Round trip of `SELECT 1`, in milliseconds (raises when the database cannot be reached)."""
        start = time.perf_counter()
        await self.fetchone("SELECT 1")
        return (time.perf_counter() - start) * 1000

    async def tables(self) -> list[str]:
        """Every table (schema_migrations included), each after the tables it references."""
        return await self.driver.tables()

    @asynccontextmanager
    async def bulk_load(self) -> AsyncIterator[Any]:
        """A transaction for copying rows in with their ids (`reset_ids(conn, table)` after each table)."""
        async with self.transaction() as conn:
            yield conn

    async def reset_ids(self, conn: Any, table: str) -> None:
        await self.driver.reset_sequences(conn, table)
