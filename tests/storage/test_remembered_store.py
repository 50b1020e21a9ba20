"""storage/remembered.py on both backends: what an integration keeps across restarts, by team and name, and its age."""

from __future__ import annotations

import pytest

from storage.audit import AuditLog
from storage.db import Database
from storage.remembered import MAX_BYTES, RememberedStore
from storage.teams import DEFAULT_TEAM_ID, TeamStore
from tests.support.environment import BACKENDS


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Every test here runs on SQLite and on PostgreSQL."""
    return str(request.param)


@pytest.fixture
async def store(db_target: str):
    db = await Database.open(db_target)
    await TeamStore(db, AuditLog(db)).ensure_default()
    yield RememberedStore(db)
    await db.close()


async def test_a_value_is_kept_replaced_and_recalled_with_its_age(store: RememberedStore) -> None:
    assert await store.recall(DEFAULT_TEAM_ID, "grafana report discovery 24h") is None
    await store.keep(DEFAULT_TEAM_ID, "grafana report discovery 24h", {"loki_uid": "a", "loki_ds": [["url", "x"]]})
    await store.keep(DEFAULT_TEAM_ID, "grafana report discovery 24h", {"loki_uid": "b", "loki_ds": []})
    found = await store.recall(DEFAULT_TEAM_ID, "grafana report discovery 24h")
    assert found is not None
    value, age = found
    assert value == {"loki_uid": "b", "loki_ds": []} and 0 <= age < 60
    assert await store.recall(DEFAULT_TEAM_ID, "grafana report discovery 1h") is None


async def test_a_value_too_large_is_not_kept(store: RememberedStore) -> None:
    await store.keep(DEFAULT_TEAM_ID, "big", ["x" * MAX_BYTES])
    assert await store.recall(DEFAULT_TEAM_ID, "big") is None
