"""storage/instrumentation.py on both backends: one row per team and repository, a second run updates it (keeping
when the pull request was first opened), audited; the latest is the team's most recently updated."""

from __future__ import annotations

import pytest

from storage.audit import AuditLog
from storage.db import Database
from storage.instrumentation import InstrumentationStore
from storage.teams import TeamStore
from tests.support.environment import BACKENDS


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Every test here runs on SQLite and on PostgreSQL."""
    return str(request.param)


@pytest.fixture
async def db(db_target: str):  # type: ignore[no-untyped-def]
    database = await Database.open(db_target)
    await TeamStore(database, AuditLog(database)).ensure_default()
    yield database
    await database.close()


async def test_record_update_and_latest(db: Database) -> None:
    audit = AuditLog(db)
    store = InstrumentationStore(db, audit)
    assert await store.latest("default") is None
    first = await store.record("default", "o/web", 3, "https://github.com/o/web/pull/3", "sitrep/x", "a" * 40, 5, "U1")
    assert (first.label, first.points, first.opened_by) == ("o/web#3", 5, "U1")
    again = await store.record("default", "o/web", 3, "https://github.com/o/web/pull/3", "sitrep/x", "b" * 40, 6, "U2")
    assert again.commit_sha == "b" * 40 and again.points == 6 and again.opened_at == first.opened_at
    assert again.updated_at >= first.updated_at
    await store.record("default", "o/api", 9, "https://github.com/o/api/pull/9", "sitrep/x", "c" * 40, 1, "U1")
    latest = await store.latest("default")
    assert latest is not None and latest.repo == "o/api"
    assert await store.get("default", "o/none") is None
    entries = [e for e in await audit.recent("default") if e.action == "amplitude.instrument"]
    assert [e.detail["pull_request"] for e in entries] == [9, 3, 3]
