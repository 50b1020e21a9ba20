"""One aiosqlite connection shared by every coroutine: a transaction never outlives its writer.

aiosqlite runs each statement on its own thread in the order they were queued, whatever happens to the coroutine
that queued it: a writer cancelled while its BEGIN IMMEDIATE waits in that queue still gets the BEGIN run. Before
storage/sqlite.py settled that, the transaction stayed open with nobody to end it, the next writer's BEGIN failed
with `cannot start a transaction within a transaction` (seen in the speed and fault runs of `python app.py`), and
the orphan kept SQLite's write lock from every other process. A COMMIT that fails did the same.

The coroutines are driven with events: a SQL function that blocks aiosqlite's thread until the test releases it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import closing, suppress
from pathlib import Path

import pytest

from storage.db import Database
from storage.sqlite import SqliteDriver


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "tx.db")
    await database.execute("CREATE TABLE t (x INTEGER)")
    yield database
    await database.close()


def driver_of(db: Database) -> SqliteDriver:
    assert isinstance(db.driver, SqliteDriver)
    return db.driver


async def hold_sqlite_thread(db: Database) -> tuple[asyncio.Task, Callable[[], None]]:
    """Block aiosqlite's thread in a SQL function until the returned release() is called."""
    loop = asyncio.get_running_loop()
    entered, release = asyncio.Event(), threading.Event()

    def hold() -> int:
        loop.call_soon_threadsafe(entered.set)
        release.wait(10)
        return 1

    await driver_of(db).conn.create_function("hold", 0, hold)
    reader = asyncio.create_task(db.fetchone("SELECT hold()"))
    await entered.wait()
    return reader, release.set


async def one_turn() -> None:
    """Let the tasks just started run to their first wait (one turn of the loop, not a timed sleep)."""
    await asyncio.sleep(0)


async def other_process_can_write(path: Path) -> None:
    """A second connection, as another sitrep would open, takes the write lock without waiting."""

    def write() -> None:
        with closing(sqlite3.connect(path, timeout=0, isolation_level=None)) as conn:
            conn.execute("INSERT INTO t VALUES (99)")

    await asyncio.to_thread(write)


async def test_a_writer_cancelled_while_its_begin_is_queued_leaves_no_transaction_open(db: Database) -> None:
    reader, release = await hold_sqlite_thread(db)
    writer = asyncio.create_task(db.execute("INSERT INTO t VALUES (1)"))
    await one_turn()
    assert driver_of(db)._write_lock.locked() and _queued(db)  # the writer's BEGIN waits behind hold()
    writer.cancel()
    release()
    await reader
    with suppress(asyncio.CancelledError):
        await writer
    await db.execute("INSERT INTO t VALUES (2)")  # was: cannot start a transaction within a transaction
    assert not driver_of(db).conn.in_transaction
    await other_process_can_write(driver_of(db).path)
    assert [r["x"] for r in await db.fetchall("SELECT x FROM t ORDER BY x")] == [2, 99]


async def test_a_writer_cancelled_while_its_commit_is_queued_keeps_its_write_and_the_next_one_begins(
    db: Database,
) -> None:
    started = asyncio.Event()

    async def write() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO t VALUES (1)")
            started.set()
            await release_wait.wait()

    release_wait = asyncio.Event()
    writer = asyncio.create_task(write())
    await started.wait()
    reader, release = await hold_sqlite_thread(db)  # the COMMIT will queue behind hold()
    release_wait.set()
    await one_turn()
    assert _queued(db)  # the COMMIT waits behind hold()
    writer.cancel()
    release()
    await reader
    with suppress(asyncio.CancelledError):
        await writer
    await db.execute("INSERT INTO t VALUES (2)")
    assert not driver_of(db).conn.in_transaction
    await other_process_can_write(driver_of(db).path)
    rows = {r["x"] for r in await db.fetchall("SELECT x FROM t")}
    assert {2, 99} <= rows  # and 1 is there or not, but never half a transaction


def _queued(db: Database) -> bool:
    """Something waits in aiosqlite's queue (the writer's COMMIT, behind hold()): its private queue, read only."""
    return not driver_of(db).conn._tx.empty()


async def test_a_commit_that_fails_is_rolled_back_and_the_next_writer_begins(db: Database) -> None:
    await db.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    await db.execute("CREATE TABLE child (parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):  # a deferred check fails at COMMIT
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO child VALUES (7)")
    assert not driver_of(db).conn.in_transaction  # was: left open, so the next BEGIN failed
    await db.execute("INSERT INTO t VALUES (1)")
    assert await db.fetchone("SELECT 1 FROM child") is None
    await other_process_can_write(driver_of(db).path)


async def test_two_concurrent_writers_take_turns_on_one_connection(db: Database) -> None:
    first_in, first_go = asyncio.Event(), asyncio.Event()
    order: list[str] = []

    async def first() -> None:
        async with db.transaction() as conn:
            order.append("first begins")
            await conn.execute("INSERT INTO t VALUES (1)")
            first_in.set()
            await first_go.wait()
            order.append("first commits")

    async def second() -> None:
        async with db.transaction() as conn:
            order.append("second begins")
            await conn.execute("INSERT INTO t VALUES (2)")

    a = asyncio.create_task(first())
    await first_in.wait()
    b = asyncio.create_task(second())
    await one_turn()
    assert len(driver_of(db)._write_lock._waiters or ()) == 1  # second waits for the lock
    first_go.set()
    await asyncio.gather(a, b)
    assert order == ["first begins", "first commits", "second begins"]
    assert [r["x"] for r in await db.fetchall("SELECT x FROM t ORDER BY x")] == [1, 2]
