"""storage/config_changes.py, the one path a config changes by, on both backends and through PgBouncer: the
report jobs follow in the same transaction, the version moves so other processes follow, this process's
followers are told at once, an invalid patch changes nothing; and a claim made against a schedule that has moved
since is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage.jobs import StaleSchedule
from storage.services import Storage
from storage.team_config import ConfigInvalid
from storage.teams import DEFAULT_TEAM_ID, Team
from tests.support.environment import STORE_BACKENDS

CHANNEL = "C0ADZHLL76V"


@pytest.fixture(params=STORE_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Every test here runs on SQLite and on PostgreSQL, directly and through PgBouncer."""
    return str(request.param)


def job(name: str, time: str) -> dict:
    return {"name": name, "time": time, "timezone": "UTC", "channel": CHANNEL}


async def test_a_change_moves_the_jobs_and_the_version_and_tells_this_process(storage: Storage) -> None:
    told: list[Team] = []

    async def follower(team: Team) -> None:
        told.append(team)

    stop = storage.config.follow(follower)
    before = await storage.jobs.version()
    team = await storage.config.patch(DEFAULT_TEAM_ID, {"reports": {"jobs": [job("Deploy check", "09:30")]}}, "U1")
    jobs = {j.name: j for j in await storage.jobs.list(DEFAULT_TEAM_ID)}
    assert (jobs["Deploy check"].cron, jobs["Deploy check"].enabled) == ("30 9 * * *", True)
    assert not jobs["Morning report"].enabled and not jobs["Evening report"].enabled  # no longer listed
    assert await storage.jobs.version() > before
    assert [t.config.reports.jobs for t in told] == [team.config.reports.jobs]
    stop()
    moved = await storage.jobs.version()
    await storage.config.patch(DEFAULT_TEAM_ID, {"reports": {"jobs": [job("Deploy check", "10:00")]}}, "U1")
    assert len(told) == 1 and await storage.jobs.version() > moved


async def test_an_invalid_change_moves_nothing(storage: Storage) -> None:
    jobs_before = await storage.jobs.list(DEFAULT_TEAM_ID)
    version = await storage.jobs.version()
    with pytest.raises(ConfigInvalid):
        await storage.config.patch(DEFAULT_TEAM_ID, {"reports": {"jobs": [job("Bad", "25:00")]}}, "U1")
    assert await storage.jobs.list(DEFAULT_TEAM_ID) == jobs_before and await storage.jobs.version() == version


async def test_a_claim_against_a_schedule_that_moved_is_refused(storage: Storage) -> None:
    await storage.config.patch(DEFAULT_TEAM_ID, {"reports": {"jobs": [job("Deploy check", "23:19")]}}, "U1")
    [check] = [j for j in await storage.jobs.list(DEFAULT_TEAM_ID) if j.name == "Deploy check"]
    old = (check.cron, check.timezone)
    await storage.config.patch(DEFAULT_TEAM_ID, {"reports": {"jobs": [job("Deploy check", "23:20")]}}, "U2")
    slot = datetime(2026, 3, 9, 23, 19, tzinfo=UTC)
    with pytest.raises(StaleSchedule, match="23"):
        await storage.jobs.claim(check.id, slot, schedule=old)  # a replica that has not followed the move
    assert await storage.jobs.run_for(check.id, slot) is None
    new = datetime(2026, 3, 9, 23, 20, tzinfo=UTC)
    assert await storage.jobs.claim(check.id, new, schedule=("20 23 * * *", "UTC")) is not None
    await storage.config.patch(
        DEFAULT_TEAM_ID, {"reports": {"jobs": [{**job("Deploy check", "23:20"), "enabled": False}]}}, "U3"
    )
    with pytest.raises(StaleSchedule, match="off"):
        await storage.jobs.claim(check.id, datetime(2026, 3, 10, 23, 20, tzinfo=UTC), schedule=("20 23 * * *", "UTC"))
