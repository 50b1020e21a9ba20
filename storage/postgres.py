"""The PostgreSQL backend: an asyncpg pool shared by several sitrep replicas.

`transaction()` keeps SQLite's BEGIN IMMEDIATE meaning: it holds a database-wide transaction-scoped advisory
lock, so writers run one at a time across every replica while readers never wait; a store's read-then-write is as
safe here as on SQLite. Reads made inside a transaction use its connection, as SQLite's single connection does.
A lost connection is retried with backoff wherever nothing has been sent yet: reads, and the start of a
transaction; a failure in the middle of a transaction is the caller's (it rolls back).

Nothing outlives a transaction (storage/pg_pooler.py), so a URL through a transaction pooler works too: there,
statements are unnamed (no statement cache) and a connection given back is not reset, since its server connection
is already someone else's.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg

from storage import pg_dialect as dialect
from storage.pg_pooler import BadPoolerFlag, pooler_choice
from storage.sql import POSTGRESQL, DatabaseUnavailable, migration_files, safe_url, split_sql

log = logging.getLogger(__name__)

WRITE_LOCK = 0x7369747265700001  # pg_advisory_xact_lock key: "one writer at a time", BEGIN IMMEDIATE's meaning
MIGRATE_LOCK = 0x7369747265700002  # pg_advisory_xact_lock key: one replica migrates, the others wait, then see it done
RETRY_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2)  # about 6 s in all: inside Slack's retry schedule
POOL_SIZE = 10
_BEGIN = f"BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
_T = TypeVar("_T")


def _transient(exc: BaseException) -> bool:
    """A connection problem worth retrying (not a statement's own error)."""
    if isinstance(exc, asyncpg.DataError | asyncpg.PostgresSyntaxError):
        return False
    return isinstance(
        exc,
        OSError
        | asyncio.TimeoutError
        | asyncpg.PostgresConnectionError
        | asyncpg.CannotConnectNowError
        | asyncpg.AdminShutdownError
        | asyncpg.CrashShutdownError
        | asyncpg.InterfaceError
        | asyncpg.InternalClientError,  # a connection the server terminated, noticed mid-operation
    )


class PgCursor:
    """What a statement leaves behind, as an aiosqlite cursor shows it: rows, rowcount, lastrowid."""

    def __init__(self, rows: list[Any], rowcount: int, lastrowid: int | None) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    async def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    async def fetchall(self) -> list[Any]:
        rest, self._next = self._rows[self._next :], len(self._rows)
        return rest

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        while (row := await self.fetchone()) is not None:
            yield row


class _Pending:
    """`conn.execute(...)` is awaited (`cur = await conn.execute(...)`) or entered (`async with conn.execute(...)`)."""

    def __init__(self, run: Coroutine[Any, Any, PgCursor]) -> None:
        self._run = run

    def __await__(self) -> Any:
        return self._run.__await__()

    async def __aenter__(self) -> PgCursor:
        return await self._run

    async def __aexit__(self, *exc: object) -> None:
        return None


class PgConnection:
    """One asyncpg connection speaking the stores' dialect (storage/pg_dialect.py)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.raw = conn

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> _Pending:
        return _Pending(self._execute(sql, params))

    async def _execute(self, sql: str, params: Sequence[Any] | dict[str, Any]) -> PgCursor:
        text, args = dialect.placeholders(dialect.statement(sql), params)
        kind = dialect.kind(text)
        if kind == "INSERT" or dialect.returns_rows(text):
            rows = await self._typed(self.raw.fetch, dialect.with_returning(text), args)
            if kind in ("SELECT", "WITH", "VALUES"):
                return PgCursor(rows, -1, None)
            last = rows[-1] if rows else None
            lastrowid = last["id"] if last is not None and "id" in last.keys() else None
            lastrowid = lastrowid if isinstance(lastrowid, int) else None
            return PgCursor(rows, len(rows), lastrowid)
        status = await self._typed(self.raw.execute, text, args)
        tail = (status or "").rsplit(" ", 1)[-1]
        return PgCursor([], int(tail) if tail.isdigit() else -1, None)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> PgCursor:
        batch = [dialect.placeholders(dialect.statement(sql), row) for row in rows]
        if not batch:
            return PgCursor([], 0, None)
        text = batch[0][0]
        args = [a for _, a in batch]
        try:
            await self.raw.executemany(text, args)
        except asyncpg.DataError:
            types = await self._types(text)
            await self.raw.executemany(
                text, [[dialect.coerce(v, t) for v, t in zip(a, types, strict=True)] for a in args]
            )
        return PgCursor([], len(args), None)

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        return await (await self._execute(sql, params)).fetchone()

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        return await (await self._execute(sql, params)).fetchall()

    async def _typed(self, call: Callable[..., Awaitable[_T]], text: str, args: list[Any]) -> _T:
        """Run; when a value is not of its column's type (SQLite would have converted it), convert and run again."""
        try:
            return await call(text, *args)
        except asyncpg.DataError:
            if not args:
                raise
            types = await self._types(text)
            return await call(text, *(dialect.coerce(v, t) for v, t in zip(args, types, strict=True)))

    async def _types(self, text: str) -> list[str]:
        prepared = await self.raw.prepare(text)
        return [t.name for t in prepared.get_parameters()]


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "numeric", encoder=str, decoder=dialect.decode_numeric, schema="pg_catalog", format="text"
    )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Pooled: no reset on release (asyncpg's would unlock every advisory lock and RESET ALL on a server connection
    that now serves another client). An open transaction is still rolled back first."""


class PgDriver:
    backend = POSTGRESQL
    path = None

    def __init__(self, pool: asyncpg.Pool, url: str, *, pooled: bool = False) -> None:
        self.pool = pool
        self.url = url
        self.pooled = pooled
        self.label = f"PostgreSQL {safe_url(url)}"
        self._current: contextvars.ContextVar[PgConnection | None] = contextvars.ContextVar("pg_tx", default=None)

    @classmethod
    async def open(cls, url: str, *, connect_timeout: float = 30.0) -> PgDriver:
        """Connect, retrying with backoff for up to `connect_timeout` seconds (the server may still be starting)."""
        try:
            choice = pooler_choice(url)
        except BadPoolerFlag as exc:
            raise DatabaseUnavailable(str(exc)) from None
        if choice.pooled:
            log.info("PostgreSQL through a transaction pooler (%s): no prepared statements kept", choice.reason)
        pooled: dict[str, Any] = {"statement_cache_size": 0, "reset": _keep_session} if choice.pooled else {}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + connect_timeout
        delay = 0.1
        while True:
            try:
                pool = await asyncpg.create_pool(
                    choice.dsn,
                    min_size=1,
                    max_size=POOL_SIZE,
                    init=_init_connection,
                    server_settings={"timezone": "UTC", "application_name": "sitrep"},
                    **pooled,
                )
                return cls(pool, url, pooled=choice.pooled)
            except Exception as exc:
                if not _transient(exc) or loop.time() + delay > deadline:
                    raise DatabaseUnavailable(f"cannot connect to {safe_url(url)}: {exc}") from None
                log.warning("PostgreSQL at %s not reachable (%s); retrying in %.1f s", safe_url(url), exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def close(self) -> None:
        await self.pool.close()

    async def _retrying(self, operation: Callable[[PgConnection], Awaitable[_T]]) -> _T:
        current = self._current.get()
        if current is not None:  # inside this task's transaction: its connection, no retry
            return await operation(current)
        for attempt, delay in enumerate((*RETRY_DELAYS, None)):
            conn = None
            try:
                conn = await self.pool.acquire()
                return await operation(PgConnection(conn))
            except Exception as exc:
                if not _transient(exc):
                    raise
                if conn is not None:
                    conn.terminate()  # the pool replaces it with a new connection
                if delay is None or self.pool.is_closing():  # closed by us: nothing to wait for
                    raise DatabaseUnavailable(f"{self.label} unreachable: {exc}") from exc
                log.warning("database connection lost (%s); retry %d in %.2f s", exc, attempt + 1, delay)
                await asyncio.sleep(delay)
            finally:
                if conn is not None:
                    await self.pool.release(conn)
        raise AssertionError("unreachable")

    async def fetchone(self, sql: str, params: Any = ()) -> Any:
        return await self._retrying(lambda c: c.fetchone(sql, params))

    async def fetchall(self, sql: str, params: Any = ()) -> list[Any]:
        return await self._retrying(lambda c: c.fetchall(sql, params))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgConnection]:
        """BEGIN and the write lock (one round trip); the body; COMMIT (ROLLBACK on error). Getting a connection
        and beginning are retried."""
        if self._current.get() is not None:
            raise RuntimeError("transaction() inside a transaction of the same task")
        conn = await self._begin()
        wrapped = PgConnection(conn)
        token = self._current.set(wrapped)
        try:
            yield wrapped
        except BaseException:
            try:
                await conn.execute("ROLLBACK")
            except Exception:  # the connection is gone: so is the transaction
                conn.terminate()
            raise
        else:
            await conn.execute("COMMIT")
        finally:
            self._current.reset(token)
            await self.pool.release(conn)

    async def _begin(self) -> asyncpg.Connection:
        for attempt, delay in enumerate((*RETRY_DELAYS, None)):
            conn = None
            try:
                conn = await self.pool.acquire()
                await conn.execute(_BEGIN)
                return conn
            except asyncio.CancelledError:  # a stopping task, maybe waiting for the write lock: its connection back
                if conn is not None:
                    conn.terminate()  # the BEGIN may have run: the pool replaces it with a new connection
                    await self.pool.release(conn)
                raise
            except Exception as exc:
                if conn is not None:
                    if _transient(exc):
                        conn.terminate()
                    await self.pool.release(conn)
                if not _transient(exc):
                    raise
                if delay is None or self.pool.is_closing():
                    raise DatabaseUnavailable(f"{self.label} unreachable: {exc}") from exc
                log.warning("database connection lost (%s); retry %d in %.2f s", exc, attempt + 1, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def tables(self) -> list[str]:
        """The schema's tables, each after the tables its foreign keys reference."""
        rows = await self.fetchall(
            "SELECT c.relname AS name, r.relname AS ref FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()"
            " LEFT JOIN pg_constraint k ON k.conrelid = c.oid AND k.contype = 'f'"
            " LEFT JOIN pg_class r ON r.oid = k.confrelid"
            " WHERE c.relkind = 'r' ORDER BY c.oid"
        )
        refs: dict[str, set[str]] = {}
        for row in rows:
            refs.setdefault(row["name"], set())
            if row["ref"] and row["ref"] != row["name"]:
                refs[row["name"]].add(row["ref"])
        ordered: list[str] = []
        while len(ordered) < len(refs):
            ready = [t for t in refs if t not in ordered and refs[t] <= set(ordered)]
            ordered.extend(ready or [t for t in refs if t not in ordered])  # a cycle: keep creation order
        return ordered

    async def reset_sequences(self, conn: PgConnection, table: str) -> None:
        """After rows were copied in with their ids, each identity column continues after the largest one."""
        columns = await conn.fetchall(
            "SELECT a.attname AS name FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
            " WHERE c.relname = ? AND c.relnamespace = current_schema()::regnamespace AND a.attidentity <> ''",
            (table,),
        )
        for column in columns:
            name = column["name"]
            await conn.execute(
                f'SELECT setval(pg_get_serial_sequence(?, ?), COALESCE((SELECT MAX("{name}") FROM "{table}"), 0) + 1,'
                " false)",
                (table, name),
            )

    async def migrate(self) -> list[str]:
        """The same migrations as SQLite, in PostgreSQL's types; each file in a transaction holding the migration
        lock, so one replica at a time applies it and the lock ends with the transaction (a session lock would stay
        on a pooler's server connection)."""
        applied: list[str] = []
        async with self.pool.acquire() as conn:
            while (name := await self._migrate_next(conn, first=not applied)) is not None:
                applied.append(name)
                log.debug("applied migration %s", name)
        return applied

    async def _migrate_next(self, conn: asyncpg.Connection, *, first: bool) -> str | None:
        """Under the lock: (the first time) the SQL functions and the schema_migrations table, then the first
        migration not yet recorded (its name), or None when every one is."""
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATE_LOCK)
            if first:
                await conn.execute(dialect.COMPAT_FUNCTIONS)
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL,"
                    " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
                )
            done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
            pending = [(version, file) for version, file in migration_files() if version not in done]
            if not pending:
                return None
            version, file = pending[0]
            for stmt in split_sql(file.read_text()):
                ddl = dialect.kind(stmt) in ("CREATE", "ALTER", "DROP")
                await conn.execute(dialect.ddl(stmt) if ddl else dialect.statement(stmt))
            await conn.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, file.name)
            return file.name
