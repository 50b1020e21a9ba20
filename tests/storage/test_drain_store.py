"""storage/drain.py on both backends: replicas draining one spill table push each batch once."""

from __future__ import annotations

import asyncio

import pytest

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
