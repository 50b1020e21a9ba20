"""A task cancelled while its transaction waits for PostgreSQL's write lock (a stopping sitrep cancels its
background work) gives its connection back, so closing the database does not wait forever."""

from __future__ import annotations

import asyncio

import pytest

from storage.services import Storage
from storage.sql import POSTGRESQL


@pytest.fixture
def backend() -> str:
    return POSTGRESQL


async def test_a_transaction_cancelled_while_waiting_for_the_lock_releases_its_connection(storage: Storage) -> None:
    db = storage.db
    holding, release = asyncio.Event(), asyncio.Event()

    async def holder() -> None:
        async with db.transaction():
            holding.set()
            await release.wait()

    async def waiter() -> None:
        async with db.transaction() as conn:  # waits for the write lock the holder has
            await conn.execute("SELECT 1")

    held = asyncio.create_task(holder())
    await holding.wait()
    waiting = asyncio.create_task(waiter())
    for _ in range(1000):  # until the server shows it waiting for the lock (no event reaches us from there)
        if await db.fetchone("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"):
            break
        await asyncio.sleep(0.01)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    release.set()
    await held
    await asyncio.wait_for(db.close(), 10)  # every connection is back in the pool
