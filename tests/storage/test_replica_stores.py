"""storage/replicas.py and storage/events.py on both backends: heartbeats, and each Slack event handled once."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import pytest

from storage.db import Database
from storage.events import EventLedger
from storage.replicas import ReplicaRegistry
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


def mention(event_id: str, text: str = "how is prod?") -> dict:
    event = {"type": "app_mention", "text": text, "channel": "C1", "ts": "1.0", "user": "U1"}
    return {"type": "event_callback", "team_id": "T1", "event_id": event_id, "event": event}


async def age(db: Database, table: str, column: str, seconds: int) -> None:
    await db.execute(
        f"UPDATE {table} SET {column} = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)", (f"-{seconds} seconds",)
    )


async def test_heartbeats_count_the_replicas_seen_in_the_last_minute(db: Database) -> None:
    a, b = ReplicaRegistry(db), ReplicaRegistry(db)
    assert await a.live() == 0
    await a.beat()
    await b.beat()
    await a.beat()  # a second beat updates, never duplicates
    assert await a.live() == 2
    await age(db, "replicas", "seen_at", 61)
    await b.beat()
    assert await a.live() == 1
    await b.leave()
    assert await a.live() == 0
    assert await a.forget_stale(60) == 1  # a's row, silent for over a minute


async def test_an_event_id_is_handled_by_the_first_replica_to_record_it(db: Database) -> None:
    ledgers = [EventLedger(db, "r1"), EventLedger(db, "r2")]
    results = await asyncio.gather(*(ledger.record("Ev1", mention("Ev1"), answer=True) for ledger in ledgers * 5))
    assert sorted(results) == [False] * 9 + [True]
    assert await ledgers[0].open_count() == 1
    await ledgers[1].finish("Ev1")
    assert await ledgers[0].open_count() == 0
    assert await ledgers[1].record("Ev1", mention("Ev1"), answer=True) is False  # a late retry stays dropped


async def test_events_of_a_dead_replica_are_adopted_once(db: Database) -> None:
    dead, alive, other = ReplicaRegistry(db, "dead"), ReplicaRegistry(db, "alive"), ReplicaRegistry(db, "other")
    for replica in (dead, alive, other):
        await replica.beat()
    await EventLedger(db, "dead").record("Ev1", mention("Ev1", "p99 of checkout?"), answer=True)
    await EventLedger(db, "dead").record("Ev2", {"event_id": "Ev2", "event": {"type": "app_home_opened"}}, answer=False)
    await EventLedger(db, "alive").record("Ev3", mention("Ev3"), answer=True)
    await EventLedger(db, "dead").record("Ev4", mention("Ev4"), answer=True)
    assert await EventLedger(db, "dead").posting("Ev4")  # died while posting: maybe answered, so never again
    adopters = [EventLedger(db, "alive"), EventLedger(db, "other")]
    assert [await a.adopt(dead_after_s=30) for a in adopters] == [[], []]  # everyone is beating
    await age(db, "replicas", "seen_at", 45)
    await age(db, "slack_events", "received_at", 45)
    await alive.beat()
    await other.beat()
    taken = await asyncio.gather(*(a.adopt(dead_after_s=30) for a in adopters))
    adopted = [event for batch in taken for event in batch]
    assert [e.event_id for e in adopted] == ["Ev1"]  # once, by one replica; Ev2 needs no answer, Ev3's replica
    # is alive, Ev4 was being posted
    assert adopted[0].body["event"]["text"] == "p99 of checkout?" and adopted[0].attempts == 2
    assert [await a.adopt(dead_after_s=30) for a in adopters] == [[], []]
    owner = next(a for a, batch in zip(adopters, taken, strict=True) if batch)
    assert not await EventLedger(db, "dead").posting("Ev1")  # the slow original owner must not post it now
    assert await owner.posting("Ev1") and not await owner.posting("Ev1")


async def test_prune_forgets_only_old_handled_events(db: Database) -> None:
    ledger = EventLedger(db, "r1")
    await ledger.record("Ev1", mention("Ev1"), answer=False)
    await ledger.record("Ev2", mention("Ev2"), answer=True)
    await age(db, "slack_events", "received_at", 2 * 86400)
    assert await ledger.prune() == 1
    assert await ledger.open_count() == 1


async def test_a_burst_of_events_is_recorded_in_a_few_transactions_each_first_once(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = EventLedger(db, "r1")
    transactions = 0
    real = db.transaction

    def counted():  # the same context manager as Database.transaction, counted
        nonlocal transactions
        transactions += 1
        return real()

    monkeypatch.setattr(db, "transaction", counted)
    ids = [f"Ev{i % 40}" for i in range(50)]  # ten of them are repeats inside the same burst
    firsts = await asyncio.gather(*(ledger.record(i, mention(i), answer=True) for i in ids))
    assert sum(firsts) == 40  # each event_id is first exactly once
    assert {i for i, first in zip(ids, firsts, strict=True) if first} == set(ids)
    assert transactions <= 3  # group commit: the burst does not queue 50 transactions before its acks


async def test_an_event_whose_caller_is_cancelled_before_its_turn_is_not_recorded(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = EventLedger(db, "r1")
    writing, release = asyncio.Event(), asyncio.Event()
    real = db.transaction

    @asynccontextmanager
    async def held():  # the first write waits until released; the events behind it queue for the next turn
        if not release.is_set():
            writing.set()
            await release.wait()
        async with real() as conn:
            yield conn

    monkeypatch.setattr(db, "transaction", held)
    first = asyncio.create_task(ledger.record("EvA", mention("EvA"), answer=True))
    await writing.wait()
    cancelled = asyncio.create_task(ledger.record("EvB", mention("EvB"), answer=True))
    kept = asyncio.create_task(ledger.record("EvC", mention("EvC"), answer=True))
    await asyncio.sleep(0)  # both are waiting for their turn
    cancelled.cancel()
    release.set()
    assert (await first, await kept) == (True, True)
    assert cancelled.cancelled()
    assert await ledger.record("EvB", mention("EvB"), answer=True)  # never recorded (never acked): Slack sends it again
    assert not await ledger.record("EvC", mention("EvC"), answer=True)
