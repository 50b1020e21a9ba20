"""storage/changes.py and storage/report_snapshots.py on both backends: one changes table for GitHub pushes and
Vercel deployments, and the snapshots the next report compares with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.audit import AuditLog
from storage.changes import GITHUB, VERCEL, Change, ChangeStore, pushed_commit
from storage.db import Database
from storage.jobs import JobStore
from storage.report_snapshots import Snapshot, SnapshotStore
from storage.teams import TeamStore
from tests.support.environment import BACKENDS

T0 = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Every test here runs on SQLite and on PostgreSQL."""
    return str(request.param)


@pytest.fixture
async def db(db_target: str):
    database = await Database.open(db_target)
    yield database
    await database.close()


def deploy(ref: str, at: datetime, url: str | None = None, title: str = "") -> Change:
    return Change(VERCEL, "web", ref, "deploy", at, title=title, environment="production", url=url, via="drain")


async def test_pushes_and_deploys_share_one_table_and_one_window_query(db: Database) -> None:
    store = ChangeStore(db)
    commit = pushed_commit("MochaCare/Web", "a" * 40, "main", "dev", "Lower the timeout", "2026-03-09T04:30:00-08:00",
                          "https://github.com/mochacare/web/commit/" + "a" * 40, "webhook")  # fmt: skip
    assert await store.record([commit, commit]) == 1
    assert await store.record([deploy("dpl_1", T0 + timedelta(minutes=5))]) == 1
    other = Change(GITHUB, "someone/else", "b" * 40, "push", T0, title="not routed")
    await store.record([other])
    got = await store.between(T0 - timedelta(hours=1), T0 + timedelta(hours=1), repos=["mochacare/web"])
    assert [(c.source, c.ref) for c in got] == [(GITHUB, "a" * 40), (VERCEL, "dpl_1")]  # newest first
    push = got[0]
    assert push.at == T0 + timedelta(minutes=30) and push.short_ref == "aaaaaaa" and push.title == "Lower the timeout"
    # outside the window, or only the sources asked for
    assert await store.between(T0 + timedelta(hours=1), T0 + timedelta(hours=2), repos=["mochacare/web"]) == []
    only = await store.between(T0 - timedelta(hours=1), T0 + timedelta(hours=1), sources=(GITHUB,), repos=["x/y"])
    assert only == []


async def test_a_deployment_seen_again_keeps_its_first_time_and_gains_its_link(db: Database) -> None:
    store = ChangeStore(db)
    assert await store.record([deploy("dpl_2", T0 + timedelta(minutes=3))]) == 1
    assert await store.record([deploy("dpl_2", T0, url="https://web-abc.vercel.app", title="build")]) == 0
    assert await store.record([deploy("dpl_2", T0 + timedelta(minutes=9), url="https://other")]) == 0
    [c] = await store.between(T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    assert c.at == T0 and c.url == "https://web-abc.vercel.app" and c.title == "build"


async def test_snapshots_give_the_previous_report_and_the_days_thread(db: Database) -> None:
    team = await TeamStore(db, AuditLog(db)).ensure_default()
    [job, *_] = await JobStore(db).seed_defaults(team.id, "C0REPORTS", "UTC")
    store = SnapshotStore(db)
    evening = Snapshot(job.id, "2026-03-09T20:00:00Z", T0, "2026-03-09", "C0REPORTS", "100.1", "100.1",
                       {"alerts": ["HighErrorRate"]})  # fmt: skip
    morning = Snapshot(job.id, "2026-03-10T08:00:00Z", T0 + timedelta(hours=12), "2026-03-10", "C0REPORTS", "200.1",
                       "200.1", {"alerts": []})  # fmt: skip
    await store.save(evening)
    await store.save(morning)
    prev = await store.previous([job.id], "2026-03-10T08:00:00Z")
    assert prev is not None and prev.data == {"alerts": ["HighErrorRate"]} and prev.taken_at == T0
    assert await store.previous([job.id], "2026-03-09T20:00:00Z") is None
    assert await store.thread_of_day([job.id], "2026-03-10", "C0REPORTS") == "200.1"
    assert await store.thread_of_day([job.id], "2026-03-10", "C0OTHER") is None
    assert await store.thread_of_day([job.id], "2026-03-11", "C0REPORTS") is None
