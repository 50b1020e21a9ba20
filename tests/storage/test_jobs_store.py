"""JobStore: seeding the two report jobs, the run ledger, and the exactly-once claim across connections."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from settings import Settings
from storage import run_lease
from storage.audit import AuditLog
from storage.db import Database
from storage.jobs import JobStore, slot_key
from storage.services import open_storage
from storage.teams import DEFAULT_TEAM_ID, TeamStore
from tests.support.environment import STORE_BACKENDS

LA = "America/Los_Angeles"
ROOT = Path(__file__).resolve().parents[2]
SLOT = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)


@pytest.fixture(params=STORE_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Every test here runs on SQLite and on PostgreSQL, directly and through PgBouncer."""
    return str(request.param)


@pytest.fixture
async def db(db_target: str):
    database = await Database.open(db_target)
    await TeamStore(database, AuditLog(database)).ensure_default()
    yield database
    await database.close()


@pytest.fixture
async def store(db: Database) -> JobStore:
    return JobStore(db, AuditLog(db))


async def test_fresh_database_seeds_two_disabled_jobs_without_a_channel(env: dict[str, str]) -> None:
    storage = await open_storage(Settings.from_env(env))
    try:
        jobs = await JobStore(storage.db).seed_defaults(DEFAULT_TEAM_ID, None, LA)
    finally:
        await storage.close()
    assert [(j.name, j.cron, j.timezone, j.channel, j.kind, j.enabled) for j in jobs] == [
        ("Morning report", "0 8 * * *", LA, None, "status_report", False),
        ("Evening report", "0 20 * * *", LA, None, "status_report", False),
    ]


async def test_seeding_with_a_channel_enables_both(store: JobStore) -> None:
    jobs = await store.seed_defaults(DEFAULT_TEAM_ID, "C0ADZHLL76V", LA)
    assert [(j.cron, j.channel, j.enabled) for j in jobs] == [
        ("0 8 * * *", "C0ADZHLL76V", True),
        ("0 20 * * *", "C0ADZHLL76V", True),
    ]


async def test_seeding_twice_does_not_duplicate(store: JobStore, db: Database) -> None:
    first = await store.seed_defaults(DEFAULT_TEAM_ID, "C0ADZHLL76V", LA)
    second = await store.seed_defaults(DEFAULT_TEAM_ID, "C0ADZHLL76V", LA)
    assert [j.id for j in first] == [j.id for j in second]
    assert first == second  # nothing changed, not even updated_at
    row = await db.fetchone("SELECT count(*) AS n FROM scheduled_jobs")
    assert row is not None and row["n"] == 2


async def test_reseeding_follows_a_changed_environment(store: JobStore) -> None:
    await store.seed_defaults(DEFAULT_TEAM_ID, None, LA)
    jobs = await store.seed_defaults(DEFAULT_TEAM_ID, "C0ADZHLL76V", "Europe/Berlin")
    assert {(j.channel, j.timezone, j.enabled) for j in jobs} == {("C0ADZHLL76V", "Europe/Berlin", True)}
    jobs = await store.seed_defaults(DEFAULT_TEAM_ID, None, "Europe/Berlin")
    assert {(j.channel, j.enabled) for j in jobs} == {(None, False)}
    assert len(await store.list()) == 2


async def test_a_disabled_job_stays_disabled_when_the_environment_is_unchanged(store: JobStore) -> None:
    morning, _ = await store.seed_defaults(DEFAULT_TEAM_ID, "C0ADZHLL76V", LA)
    await store.set_enabled(morning.id, False, actor="U123")
    jobs = await store.seed_defaults(DEFAULT_TEAM_ID, "C0ADZHLL76V", LA)
    assert [j.enabled for j in jobs] == [False, True]
    assert [j.name for j in await store.list(enabled_only=True)] == ["Evening report"]
    assert [j.name for j in await store.list(DEFAULT_TEAM_ID)] == ["Morning report", "Evening report"]
    assert await store.list("another-team") == []


async def test_seeding_rejects_an_unknown_time_zone(store: JobStore) -> None:
    with pytest.raises(ValueError, match="IANA"):
        await store.seed_defaults(DEFAULT_TEAM_ID, None, "Pacific/Nowhere")


async def test_claim_is_exactly_once_and_finish_records_the_outcome(store: JobStore) -> None:
    job, _ = await store.seed_defaults(DEFAULT_TEAM_ID, "C0ADZHLL76V", LA)
    run_id = await store.claim(job.id, SLOT)
    assert run_id is not None
    assert await store.claim(job.id, SLOT.astimezone(datetime.now().astimezone().tzinfo)) is None
    assert await store.claim(job.id, "2026-03-09T15:00:00Z") is None
    await store.finish(run_id, "posted", message_ts="1773068400.000100")
    run = await store.last_run(job.id)
    assert run is not None
    assert (run.scheduled_for, run.status, run.message_ts, run.channel) == (
        "2026-03-09T15:00:00Z",
        "posted",
        "1773068400.000100",
        "C0ADZHLL76V",
    )
    assert run.scheduled_at == SLOT and run.started_at and run.finished_at
    with pytest.raises(ValueError):
        await store.finish(run_id, "running")
    with pytest.raises(LookupError):
        await store.claim(9999, SLOT)


async def test_missed_runs_and_history(store: JobStore) -> None:
    job, _ = await store.seed_defaults(DEFAULT_TEAM_ID, "C0ADZHLL76V", LA)
    assert await store.record_missed(job.id, SLOT - timedelta(days=1), "down") is not None
    assert await store.record_missed(job.id, SLOT - timedelta(days=1)) is None  # already has a row
    run_id = await store.claim(job.id, SLOT)
    assert run_id is not None
    await store.finish(run_id, "failed", error="Slack: channel_not_found")
    assert await store.record_missed(job.id, SLOT) is None  # a claimed slot is never turned into 'missed'
    history = await store.runs(job.id, limit=10)
    assert [(r.scheduled_for, r.status, r.error) for r in history] == [
        ("2026-03-09T15:00:00Z", "failed", "Slack: channel_not_found"),
        ("2026-03-08T15:00:00Z", "missed", "down"),
    ]
    assert await store.runs(job.id, limit=1) == history[:1]
    assert (await store.run_for(job.id, SLOT)) == history[0]


async def test_stale_running_rows_are_failed(store: JobStore, db: Database) -> None:
    job, _ = await store.seed_defaults(DEFAULT_TEAM_ID, "C0ADZHLL76V", LA)
    run_id = await store.claim(job.id, SLOT)
    assert await store.fail_stale(3600) == 0
    async with db.transaction() as conn:
        await conn.execute("UPDATE job_runs SET started_at = '2020-01-01T00:00:00.000Z' WHERE id = ?", (run_id,))
    assert await store.fail_stale(3600) == 1
    run = await store.last_run(job.id)
    assert run is not None and run.status == "failed" and run.error and "interrupted" in run.error


def test_slot_key_is_utc_with_seconds() -> None:
    assert slot_key(datetime(2026, 3, 9, 8, 0, 0, 123456, tzinfo=UTC) - timedelta(hours=8)) == "2026-03-09T00:00:00Z"
    with pytest.raises(ValueError):
        slot_key(datetime(2026, 3, 9, 8))


CLAIMER = textwrap.dedent(
    """
    import asyncio, sys
    from storage.db import Database
    from storage.jobs import JobStore

    async def main(path, job_id, slots):
        db = await Database.open(path)
        store = JobStore(db)
        print("ready", flush=True)
        sys.stdin.readline()
        won = [slot for slot in slots if await store.claim(job_id, slot) is not None]
        print(",".join(won), flush=True)
        sys.stdin.readline()  # stay alive (a live owner keeps its runs) until the other side has claimed too
        await db.close()

    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")))
    """
)


@pytest.mark.e2e  # a second process claims too
async def test_two_processes_claim_each_slot_once(store: JobStore, db: Database, db_target: str) -> None:
    job, _ = await store.seed_defaults(DEFAULT_TEAM_ID, "C0ADZHLL76V", LA)
    slots = [slot_key(SLOT + timedelta(days=i)) for i in range(40)]
    other = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CLAIMER,
        db_target,
        str(job.id),
        ",".join(slots),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    second = JobStore(await Database.open(db_target))
    assert other.stdin is not None and other.stdout is not None
    assert (await other.stdout.readline()).strip() == b"ready"
    other.stdin.write(b"go\n")
    await other.stdin.drain()
    try:
        mine = await asyncio.gather(*(s.claim(job.id, slot) for slot in slots for s in (store, second)))
    finally:
        await second.db.close()
    out, err = await other.communicate(b"done\n")
    assert other.returncode == 0, err.decode()
    theirs = [s for s in out.decode().strip().split(",") if s]
    won_here = [slots[i // 2] for i, run_id in enumerate(mine) if run_id is not None]
    assert sorted(won_here + theirs) == sorted(slots)  # every slot claimed, none twice


async def test_sync_makes_jobs_match_the_config_and_keeps_the_others_history(store: JobStore) -> None:
    from storage.team_config import ReportJob

    await store.seed_defaults(DEFAULT_TEAM_ID, "C1", LA)
    weekly = ReportJob(name="Weekly digest", time="09:00", days="mon", channel="C0WEEKLY", window_hours=168)
    evening = ReportJob(name="Evening report", time="18:30", timezone="Europe/Berlin", sections=["grafana"])
    jobs = {j.name: j for j in await store.sync(DEFAULT_TEAM_ID, [evening, weekly], "C1", LA, "UADMIN")}
    assert (jobs["Evening report"].cron, jobs["Evening report"].timezone) == ("30 18 * * *", "Europe/Berlin")
    assert jobs["Evening report"].sections == ("grafana",) and jobs["Evening report"].channel == "C1"
    assert (jobs["Weekly digest"].cron, jobs["Weekly digest"].channel) == ("0 9 * * mon", "C0WEEKLY")
    assert jobs["Weekly digest"].window_hours == 168 and jobs["Weekly digest"].enabled
    assert not jobs["Morning report"].enabled  # not in the config: off, its runs kept
    assert jobs["Weekly digest"].spec() == weekly.model_copy(update={"timezone": LA})
    actions = [e.action for e in await store.audit.recent(DEFAULT_TEAM_ID, 5)]  # type: ignore[union-attr]
    assert {"jobs.add", "jobs.update", "jobs.disable"} <= set(actions)
    again = await store.sync(DEFAULT_TEAM_ID, [evening, weekly], "C1", LA)
    assert [(j.name, j.updated_at) for j in again] == [(j.name, j.updated_at) for j in jobs.values()]


async def test_a_run_whose_owner_died_is_taken_over_and_a_live_one_is_not(store: JobStore, db: Database) -> None:
    job, _ = await store.seed_defaults(DEFAULT_TEAM_ID, "C0ADZHLL76V", LA)
    run_id = await store.claim(job.id, SLOT)
    assert run_id is not None and await store.heartbeat(run_id)

    async def owned_by(owner: str, beat: str = "now") -> None:
        stamp = "strftime('%Y-%m-%dT%H:%M:%fZ','now')" if beat == "now" else f"'{beat}'"
        async with db.transaction() as conn:
            await conn.execute(f"UPDATE job_runs SET owner = ?, heartbeat_at = {stamp} WHERE id = ?", (owner, run_id))

    gone = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await gone.wait()
    await owned_by(f"{run_lease.HOST}:{os.getpid()}:other")  # this pid is alive (another sitrep, same host)
    assert await store.claim(job.id, SLOT) is None
    await owned_by("elsewhere:1:x")  # another host, heartbeat fresh
    assert await store.claim(job.id, SLOT) is None
    await owned_by("elsewhere:1:x", beat="2020-01-01T00:00:00.000Z")  # another host, silent past the lease
    assert await store.claim(job.id, SLOT) == run_id
    await owned_by(f"{run_lease.HOST}:{gone.pid}:x")  # killed on this host: at once
    assert await store.claim(job.id, SLOT) == run_id
    run = await store.run_for(job.id, SLOT)
    assert run is not None and run.status == "running"
    await store.finish(run_id, "posted", message_ts="1.2")
    assert await store.claim(job.id, SLOT) is None  # a finished run is never taken again
    assert not await store.heartbeat(run_id)
