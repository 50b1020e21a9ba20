"""The "Scheduled reports" readiness row: not configured, blocked (disabled jobs, scheduler down), ready."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from reports.readiness import reports_readiness
from reports.scheduler import ReportScheduler
from settings import Settings
from skills.base import ReadinessStatus
from storage.audit import AuditLog
from storage.db import Database
from storage.jobs import Job, JobStore
from storage.teams import DEFAULT_TEAM_ID, Team, TeamStore
from tests.support.environment import BACKENDS

LA = "America/Los_Angeles"
CHANNEL = "C0ADZHLL76V"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Every test here runs on SQLite and on PostgreSQL."""
    return str(request.param)


async def no_op(job: Job, scheduled_for: datetime) -> str | None:
    return "1773068400.000100"


@pytest.fixture
async def db(db_target: str):
    database = await Database.open(db_target)
    yield database
    await database.close()


@pytest.fixture
async def teams(db: Database) -> TeamStore:
    teams = TeamStore(db, AuditLog(db))
    await teams.ensure_default()
    return teams


@pytest.fixture
async def team(teams: TeamStore) -> Team:
    return await teams.get(DEFAULT_TEAM_ID)


@pytest.fixture
def store(db: Database) -> JobStore:
    return JobStore(db)


def settings(channel: str | None = None) -> Settings:
    return Settings.from_env({"SITREP_REPORT_CHANNEL": channel} if channel else {})


async def test_no_channel_is_not_configured(store: JobStore, team: Team) -> None:
    await store.seed_defaults(team.id, None, LA)
    row = await reports_readiness(store, team, settings(), None)
    assert row.integration == "Scheduled reports"
    assert row.status is ReadinessStatus.NOT_CONFIGURED
    assert row.missing == "no report channel"
    assert "Reports & schedule" in row.next_step and "SITREP_REPORT_CHANNEL" in row.next_step
    assert "Morning report, Evening report" in row.detail


async def test_channel_set_but_scheduler_not_running_is_blocked(store: JobStore, team: Team) -> None:
    await store.seed_defaults(team.id, CHANNEL, LA)
    scheduler = ReportScheduler(store, no_op)
    for candidate in (None, scheduler):
        row = await reports_readiness(store, team, settings(CHANNEL), candidate)
        assert row.status is ReadinessStatus.BLOCKED
        assert row.missing == "scheduler not running"
        assert "app.py run" in row.next_step


async def test_jobs_disabled_is_blocked_and_says_which(store: JobStore, team: Team) -> None:
    for job in await store.seed_defaults(team.id, CHANNEL, LA):
        await store.set_enabled(job.id, False, actor="U1")  # an admin turned both off
    row = await reports_readiness(store, team, settings(CHANNEL), ReportScheduler(store, no_op))
    assert row.status is ReadinessStatus.BLOCKED
    assert row.missing == "report jobs disabled: Morning report, Evening report"
    assert "Reports & schedule" in row.next_step


async def test_no_jobs_is_blocked(store: JobStore, team: Team) -> None:
    row = await reports_readiness(store, team, settings(CHANNEL), None)
    assert (row.status, row.missing) == (ReadinessStatus.BLOCKED, "no report jobs")


async def test_ready_names_the_next_slot_and_the_last_outcome(store: JobStore, team: Team) -> None:
    jobs = await store.seed_defaults(team.id, CHANNEL, LA)
    morning, evening = jobs
    scheduler = ReportScheduler(store, no_op)
    await scheduler.start(catch_up=False)
    try:
        row = await reports_readiness(store, team, settings(CHANNEL), scheduler)
        assert row.status is ReadinessStatus.READY and row.ready
        assert re.fullmatch(r"next: (Morning|Evening) report \w{3} (08|20):00 P[SD]T", row.detail), row.detail

        run_id = await store.claim(morning.id, datetime(2026, 3, 12, 15, tzinfo=UTC))  # Thu 08:00 PDT
        assert run_id is not None
        await store.finish(run_id, "posted", message_ts="1773331200.000100")
        row = await reports_readiness(store, team, settings(CHANNEL), scheduler)
        assert "; last: Morning report Thu 08:00 PDT posted" in row.detail

        run_id = await store.claim(evening.id, datetime(2026, 3, 13, 3, tzinfo=UTC))  # Thu 20:00 PDT
        assert run_id is not None
        await store.finish(run_id, "failed", error="Slack: not_in_channel. Invite @sitrep to the channel")
        await store.set_enabled(morning.id, False)
        await scheduler.resync()
        row = await reports_readiness(store, team, settings(CHANNEL), scheduler)
        assert row.status is ReadinessStatus.READY
        assert row.detail.startswith("next: Evening report ")
        assert (
            "; last: Evening report Thu 20:00 PDT failed (Slack: not_in_channel. Invite @sitrep to the channel)"
            in row.detail
        )
        assert row.detail.endswith("; off: Morning report")
    finally:
        await scheduler.shutdown()


async def test_ready_detail_reads_as_documented_with_a_frozen_clock(store: JobStore, team: Team) -> None:
    await store.seed_defaults(team.id, CHANNEL, LA)
    wednesday_night = datetime(2026, 11, 26, 5, tzinfo=UTC)  # Wed 21:00 PST
    scheduler = _AlwaysRunning(store, no_op, clock=lambda: wednesday_night)
    await scheduler.resync()
    row = await reports_readiness(store, team, settings(CHANNEL), scheduler)
    assert row.detail == "next: Morning report Thu 08:00 PST"


class _AlwaysRunning(ReportScheduler):
    """A scheduler that reports itself running without APScheduler, so next times come from the frozen clock."""

    @property
    def running(self) -> bool:
        return True
