"""storage/drain.py on both backends: replicas draining one spill table push each batch once; the inbox's rows are
taken only from a relay that is gone or let them go."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from storage import run_lease
from storage.db import Database
from storage.drain import DrainStore
from tests.support.environment import STORE_BACKENDS


@pytest.fixture(params=STORE_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Every test here runs on SQLite and on PostgreSQL, directly and through PgBouncer."""
    return str(request.param)


@pytest.fixture
async def db(db_target: str):
    database = await Database.open(db_target)
    yield database
    await database.close()


async def test_two_replicas_draining_at_once_each_take_different_batches(db: Database) -> None:
    a, b = DrainStore(db, "replica-a"), DrainStore(db, "replica-b")
    for i in range(6):
        await a.spill(f"batch {i}".encode(), 1, max_bytes=10_000)
    pushed: list[bytes] = []

    async def drain(store: DrainStore) -> None:
        while (head := await store.oldest()) is not None:
            pushed.append(head.body)
            await asyncio.sleep(0)  # the push: the other replica runs meanwhile
            await store.remove(head.id)

    await asyncio.gather(drain(a), drain(b))
    assert sorted(pushed) == [f"batch {i}".encode() for i in range(6)]  # every batch once
    assert await a.backlog() == (0, 0, 0)


async def test_a_claim_is_kept_by_its_replica_until_the_lease_runs_out(db: Database) -> None:
    a, b = DrainStore(db, "replica-a"), DrainStore(db, "replica-b")
    await a.spill(b"only", 4, max_bytes=10_000)
    head = await a.oldest()
    assert head is not None and head.body == b"only"
    assert await b.oldest() is None  # replica a is pushing it
    again = await a.oldest()  # a failed push: a retries its own batch
    assert again is not None and again.id == head.id
    await db.execute("UPDATE drain_spill SET claimed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-61 seconds')")
    taken = await b.oldest()  # a died mid-push: b takes it over
    assert taken is not None and taken.id == head.id


async def test_inbox_rows_are_taken_only_from_a_relay_that_is_gone_or_let_them_go(db: Database) -> None:
    alive, other = DrainStore(db, f"{run_lease.HOST}:{os.getpid()}:alive"), DrainStore(db, "elsewhere:1:b")
    [mine] = await alive.journal([(b"kept", 2)])
    assert await other.take_orphan(10) is None  # its relay runs (this pid) and beats: nobody takes it
    await alive.release()  # a clean stop lets it go at once
    taken = await other.take_orphan(10)
    assert taken is not None and (taken.id, taken.lines, taken.body) == (mine, 2, b"kept")
    assert await alive.take_orphan(10) is None  # now other's, and other is within its lease


async def test_inbox_rows_of_a_killed_relay_are_taken_at_once_on_its_host_and_after_the_lease_elsewhere(
    db: Database,
) -> None:
    gone = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await gone.wait()
    killed = DrainStore(db, f"{run_lease.HOST}:{gone.pid}:x")  # a relay on this host whose process is gone
    far = DrainStore(db, "other-host:42:y")  # a relay on another host: only its heartbeat tells
    survivor = DrainStore(db, "survivor:1:z")
    [a] = await killed.journal([(b"a", 1)])
    [b] = await far.journal([(b"b", 1)])
    first = await survivor.take_orphan(10)
    assert first is not None and first.id == a
    assert await survivor.take_orphan(10) is None  # b's holder beat within the lease
    await db.execute("UPDATE drain_inbox SET beat_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-61 seconds')")
    second = await survivor.take_orphan(10)
    assert second is not None and second.id == b
    assert await survivor.take_orphan(10) is None  # taken rows are the survivor's: it beats for them


async def test_an_inbox_row_larger_than_the_room_waits(db: Database) -> None:
    writer, reader = DrainStore(db, "w:1:a"), DrainStore(db, "r:1:b")
    await writer.journal([(b"big", 500), (b"small", 5)])
    await writer.release()
    first = await reader.take_orphan(100)
    assert first is not None and first.body == b"small"  # the big one does not fit in the queue's room yet
    assert await reader.inbox() == (2, 505)
    await reader.settle([first.id])
    assert await reader.inbox() == (1, 500)
