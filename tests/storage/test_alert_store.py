"""storage/alerts.py on both backends: one investigation per (team, fingerprint, starts_at), however many claim it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from storage.alerts import AlertStore
from storage.services import Storage
from tests.support.environment import BACKENDS

START = datetime(2026, 2, 17, 8, 10, 3, 157000, UTC)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _claim(store: AlertStore, fp: str = "fp1", starts: datetime = START):
    return store.claim(
        "default", fp, starts, alert_name="High error rate", source="grafana", channel="C1", thread_ts=""
    )


async def test_a_flood_claims_once_and_counts(storage: Storage) -> None:
    store = AlertStore(storage.db)
    results = await asyncio.gather(*[_claim(store) for _ in range(50)])
    assert sum(created for _, created in results) == 1
    again, created = await _claim(store)
    assert not created and again.notifications == 51
    other, created = await _claim(store, starts=START + timedelta(hours=2))
    assert created and other.id != again.id  # a new firing period is a new investigation


async def test_open_for_and_resolve(storage: Storage) -> None:
    store = AlertStore(storage.db)
    inv, _ = await _claim(store)
    assert (await store.open_for("default", "fp1")) == inv
    await store.save_reply(inv.id, channel="C1", reply_ts="1.5", text="investigation")
    await store.resolve(inv.id, START + timedelta(minutes=23))
    await store.resolve(inv.id, START + timedelta(minutes=40))  # the first resolve wins
    got = await store.get(inv.id)
    assert got is not None and got.reply_ts == "1.5" and got.reply_text == "investigation"
    assert got.resolved_at == START + timedelta(minutes=23)
    assert await store.open_for("default", "fp1") is None
    rows = await store.between("default", START + timedelta(minutes=10), START + timedelta(hours=1))
    assert [r.id for r in rows] == [inv.id]  # resolved in the window, though it started before it
    assert await store.between("default", START + timedelta(minutes=30), START + timedelta(hours=1)) == []
