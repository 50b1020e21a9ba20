"""ReportScheduler: cron maths across DST, exactly-once firing across two databases, catch-up, failures, runs
whose sitrep died, and following the schedule in the store (a change made elsewhere; a trigger set from an old
schedule)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from reports.scheduler import (
    ReportScheduler,
    crontab_weekdays,
    next_fire,
    one_line_error,
    parse_cron,
    previous_fire,
)
from storage.audit import AuditLog
from storage.db import Database
from storage.jobs import INTERRUPTED, Job, JobStore
from storage.services import Storage
from storage.team_config import ReportJob
from storage.teams import DEFAULT_TEAM_ID, TeamStore
from tests.support.environment import BACKENDS

LA = "America/Los_Angeles"
CHANNEL = "C0ADZHLL76V"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Every test here runs on SQLite and on PostgreSQL."""
    return str(request.param)


def frozen(when: datetime):
    return lambda: when


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class Recorder:
    """A run_job that records its calls, optionally fails or waits on a gate."""

    def __init__(self, error: Exception | None = None, gate: asyncio.Event | None = None) -> None:
        self.calls: list[tuple[str, datetime]] = []
        self.started = asyncio.Event()
        self.error = error
        self.gate = gate

    async def __call__(self, job: Job, scheduled_for: datetime) -> str | None:
        self.calls.append((job.name, scheduled_for))
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return f"1773068400.{len(self.calls):06d}"


async def open_db(path: str | Path) -> Database:
    db = await Database.open(path)
    await TeamStore(db, AuditLog(db)).ensure_default()
    return db


@pytest.fixture
async def db(db_target: str):
    database = await open_db(db_target)
    yield database
    await database.close()


@pytest.fixture
async def store(db: Database) -> JobStore:
    store = JobStore(db)
    await store.seed_defaults(DEFAULT_TEAM_ID, CHANNEL, LA)
    return store


async def job_named(store: JobStore, name: str) -> Job:
    return next(job for job in await store.list() if job.name == name)


# --- cron maths ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "offsets"),
    [
        (utc(2026, 3, 7, 12), [-8, -7, -7]),  # spring forward on Sunday 2026-03-08
        (utc(2026, 10, 31, 12), [-7, -8, -8]),  # fall back on Sunday 2026-11-01
    ],
)
def test_eight_am_stays_eight_am_across_dst(start: datetime, offsets: list[int]) -> None:
    fires, when = [], start
    for _ in range(3):
        when = next_fire("0 8 * * *", LA, when)
        assert when is not None
        fires.append(when)
    assert [(f.hour, f.minute) for f in fires] == [(8, 0)] * 3
    assert [f.utcoffset() for f in fires] == [timedelta(hours=h) for h in offsets]
    assert [f.date() for f in fires] == [start.date() + timedelta(days=i) for i in range(3)]
    assert [f.astimezone(UTC).hour for f in fires] == [8 - h for h in offsets]


async def test_next_fire_times_with_a_frozen_clock_cross_dst(store: JobStore) -> None:
    morning, evening = await job_named(store, "Morning report"), await job_named(store, "Evening report")
    scheduler = ReportScheduler(store, Recorder(), clock=frozen(utc(2026, 3, 7, 17)))  # Sat 09:00 PST
    await scheduler.resync()
    times = scheduler.next_fire_times()
    assert times[morning.id] == datetime(2026, 3, 8, 8, tzinfo=ZoneInfo(LA))
    assert times[morning.id].astimezone(UTC) == utc(2026, 3, 8, 15)  # PDT already
    assert times[evening.id].astimezone(UTC) == utc(2026, 3, 8, 4)  # Sat 20:00 PST

    scheduler = ReportScheduler(store, Recorder(), clock=frozen(utc(2026, 11, 1, 8)))  # Sun 01:00 PDT
    await scheduler.resync()
    assert scheduler.next_fire_times()[morning.id].astimezone(UTC) == utc(2026, 11, 1, 16)  # 08:00 PST


def test_previous_fire_is_the_latest_slot_at_or_before() -> None:
    assert previous_fire("0 8 * * *", LA, utc(2026, 3, 9, 16, 30)) == utc(2026, 3, 9, 15)
    assert previous_fire("0 8 * * *", LA, utc(2026, 3, 9, 15)) == utc(2026, 3, 9, 15)
    assert previous_fire("0 8 * * *", LA, utc(2026, 3, 9, 14, 59)) == utc(2026, 3, 8, 15)
    assert previous_fire("0 8 * * *", LA, utc(2026, 3, 8, 14, 59)) == utc(2026, 3, 7, 16)  # PST the day before
    assert previous_fire("0 20 * * *", LA, utc(2026, 11, 2, 5)) == utc(2026, 11, 2, 4)
    assert previous_fire("* * * * *", "UTC", utc(2026, 3, 9, 15, 0, 30)) == utc(2026, 3, 9, 15)
    assert previous_fire("0 0 29 2 *", "UTC", utc(2026, 3, 9)) == utc(2024, 2, 29)


def test_crontab_weekdays_count_sunday_as_zero() -> None:
    assert crontab_weekdays("0") == crontab_weekdays("7") == "sun"
    assert crontab_weekdays("1-5") == "mon,tue,wed,thu,fri"
    assert crontab_weekdays("*/2") == "sun,tue,thu,sat"
    assert next_fire("0 9 * * 1-5", "UTC", utc(2026, 3, 7)) == utc(2026, 3, 9, 9)  # Sat -> Mon
    assert next_fire("0 9 * * 0", "UTC", utc(2026, 3, 7)) == utc(2026, 3, 8, 9)  # Sunday


def test_invalid_schedules_are_value_errors() -> None:
    with pytest.raises(ValueError, match="5 fields"):
        parse_cron("0 8 * *", LA)
    with pytest.raises(ValueError, match="IANA"):
        parse_cron("0 8 * * *", "Mars/Olympus")
    with pytest.raises(ValueError):
        parse_cron("0 25 * * *", LA)
    with pytest.raises(ValueError):
        parse_cron("0 8 * * funday", LA)


def test_one_line_error() -> None:
    assert one_line_error(RuntimeError("Slack: channel_not_found\nTraceback ...")) == (
        "RuntimeError: Slack: channel_not_found"
    )
    assert one_line_error(TimeoutError()) == "TimeoutError"
    assert len(one_line_error(ValueError("x" * 1000))) == 300


# --- firing -------------------------------------------------------------------------------------------------


async def test_two_schedulers_on_two_connections_post_once(
    db_target: str, store: JobStore, caplog: pytest.LogCaptureFixture
) -> None:
    other_db = await open_db(db_target)
    other_store = JobStore(other_db)
    gate = asyncio.Event()
    run_job = Recorder(gate=gate)
    first, second = ReportScheduler(store, run_job), ReportScheduler(other_store, run_job)
    morning = await job_named(store, "Morning report")
    slot = datetime(2026, 3, 9, 8, tzinfo=ZoneInfo(LA))
    try:
        with caplog.at_level(logging.INFO, logger="reports.scheduler"):
            tasks = [asyncio.create_task(s.fire(morning, slot)) for s in (first, second)]
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            assert [t.result() for t in done] == [None]  # the loser backs off while the winner is still running
            gate.set()
            results = await asyncio.gather(*tasks)
    finally:
        await other_db.close()
    assert sorted(results, key=str) == [None, "posted"]
    assert run_job.calls == [("Morning report", utc(2026, 3, 9, 15))]
    runs = await store.runs(morning.id)
    assert [(r.scheduled_for, r.status, r.message_ts) for r in runs] == [
        ("2026-03-09T15:00:00Z", "posted", "1773068400.000001")
    ]
    assert any("already claimed" in r.message and r.levelno == logging.INFO for r in caplog.records)


async def test_two_started_schedulers_fire_the_same_slot_once(db_target: str, store: JobStore) -> None:
    other_db = await open_db(db_target)
    stores = [store, JobStore(other_db)]
    claims: list[int | None] = []
    both_claimed = asyncio.Event()
    for s in stores:
        real_claim = s.claim

        async def claim(job_id: int, scheduled_for: datetime | str, real_claim=real_claim, **kw) -> int | None:
            claims.append(result := await real_claim(job_id, scheduled_for, **kw))
            if len(claims) == 2:
                both_claimed.set()
            return result

        s.claim = claim  # type: ignore[method-assign]
    run_job = Recorder()
    schedulers = [ReportScheduler(s, run_job) for s in stores]
    evening = await job_named(store, "Evening report")
    slot = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    try:
        for scheduler in schedulers:
            await scheduler.start(catch_up=False)
            assert scheduler.apscheduler is not None
            scheduler.apscheduler.modify_job(str(evening.id), next_run_time=slot)
        await asyncio.wait_for(both_claimed.wait(), 10)
        await asyncio.wait_for(run_job.started.wait(), 10)
    finally:
        for scheduler in schedulers:
            await scheduler.shutdown()
        await other_db.close()
    assert run_job.calls == [("Evening report", slot)]  # the trigger's scheduled time, not the wall clock
    assert len(claims) == 2 and claims.count(None) == 1  # one claim won, the other backed off


async def test_a_failing_run_is_recorded_failed_with_one_line(store: JobStore) -> None:
    run_job = Recorder(error=RuntimeError("Slack said channel_not_found\nstack trace here"))
    scheduler = ReportScheduler(store, run_job)
    morning = await job_named(store, "Morning report")
    assert await scheduler.fire(morning, utc(2026, 3, 9, 15)) == "failed"
    run = await store.last_run(morning.id)
    assert run is not None
    assert (run.status, run.error, run.message_ts) == ("failed", "RuntimeError: Slack said channel_not_found", None)
    assert await scheduler.fire(morning, utc(2026, 3, 9, 15)) is None  # a failed slot is not retried
    assert len(run_job.calls) == 1


async def test_catch_up_inside_the_grace_window_runs_once(store: JobStore) -> None:
    run_job = Recorder()
    now = utc(2026, 3, 10, 16, 30)  # 09:30 PDT: the morning slot was 90 minutes ago, the evening one 13.5 hours
    scheduler = ReportScheduler(store, run_job, clock=frozen(now))
    morning, evening = await job_named(store, "Morning report"), await job_named(store, "Evening report")
    outcomes = await scheduler.catch_up()
    assert outcomes == {morning.id: "posted", evening.id: "missed"}
    assert run_job.calls == [("Morning report", utc(2026, 3, 10, 15))]
    assert await scheduler.catch_up() == {morning.id: "already posted", evening.id: "already missed"}
    assert len(run_job.calls) == 1
    missed = await store.last_run(evening.id)
    assert missed is not None and (missed.scheduled_for, missed.status) == ("2026-03-10T03:00:00Z", "missed")
    assert missed.error and "grace" in missed.error


async def test_catch_up_outside_the_grace_window_records_missed(store: JobStore) -> None:
    run_job = Recorder()
    scheduler = ReportScheduler(store, run_job, clock=frozen(utc(2026, 3, 10, 18, 1)))  # 11:01 PDT
    morning = await job_named(store, "Morning report")
    assert (await scheduler.catch_up())[morning.id] == "missed"
    assert run_job.calls == []
    run = await store.last_run(morning.id)
    assert run is not None and (run.scheduled_for, run.status) == ("2026-03-10T15:00:00Z", "missed")


async def test_catch_up_skips_disabled_jobs(store: JobStore) -> None:
    morning = await job_named(store, "Morning report")
    await store.set_enabled(morning.id, False)
    run_job = Recorder()
    scheduler = ReportScheduler(store, run_job, clock=frozen(utc(2026, 3, 10, 15, 5)))
    assert morning.id not in await scheduler.catch_up()
    assert run_job.calls == []


# --- the real AsyncIOScheduler ------------------------------------------------------------------------------


async def test_start_catches_up_in_the_background_and_schedules_triggers(store: JobStore) -> None:
    run_job = Recorder()
    scheduler = ReportScheduler(store, run_job, clock=frozen(utc(2026, 3, 10, 15, 10)))
    try:
        await scheduler.start()
        assert scheduler.running
        await asyncio.wait_for(run_job.started.wait(), 10)
        times = scheduler.next_fire_times()
        assert len(times) == 2 and all(t is not None and t > datetime.now(UTC) for t in times.values())
        assert {(t.hour, t.minute) for t in times.values() if t} == {(8, 0), (20, 0)}
    finally:
        await scheduler.shutdown()
    assert not scheduler.running
    assert run_job.calls == [("Morning report", utc(2026, 3, 10, 15))]


async def test_resync_follows_enabled_jobs(store: JobStore) -> None:
    scheduler = ReportScheduler(store, Recorder())
    morning = await job_named(store, "Morning report")
    try:
        await scheduler.start(catch_up=False)
        assert scheduler.apscheduler is not None
        before = scheduler.apscheduler.get_job(str(morning.id)).next_run_time
        await store.set_enabled(morning.id, False)
        await scheduler.resync()
        assert morning.id not in scheduler.next_fire_times()
        assert scheduler.apscheduler.get_job(str(morning.id)) is None
        await store.set_enabled(morning.id, True)
        await scheduler.resync()
        assert scheduler.next_fire_times()[morning.id] == before
    finally:
        await scheduler.shutdown()


async def test_a_firing_later_than_grace_is_recorded_missed(store: JobStore, db: Database) -> None:
    async with db.transaction() as conn:
        cur = await conn.execute(
            "INSERT INTO scheduled_jobs (team_id, name, cron, timezone, channel, enabled)"
            " VALUES (?, 'Leap day report', '0 0 29 2 *', 'UTC', ?, 1)",
            (DEFAULT_TEAM_ID, CHANNEL),
        )
        job_id = cur.lastrowid
    missed = asyncio.Event()
    real_record = store.record_missed

    async def record_missed(*args, **kwargs):
        result = await real_record(*args, **kwargs)
        missed.set()
        return result

    store.record_missed = record_missed  # type: ignore[method-assign]
    run_job = Recorder()
    scheduler = ReportScheduler(store, run_job)
    late = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    try:
        await scheduler.start(catch_up=False)
        assert scheduler.apscheduler is not None
        scheduler.apscheduler.modify_job(str(job_id), next_run_time=late)
        await asyncio.wait_for(missed.wait(), 10)
    finally:
        await scheduler.shutdown()
    assert run_job.calls == []
    run = await store.run_for(job_id, late)
    assert run is not None and run.status == "missed" and run.error and "late" in run.error


async def test_shutdown_cancels_a_run_in_flight_and_records_it(store: JobStore) -> None:
    run_job = Recorder(gate=asyncio.Event())  # never released
    scheduler = ReportScheduler(store, run_job)
    morning = await job_named(store, "Morning report")
    await scheduler.start(catch_up=False)
    task = asyncio.create_task(scheduler.fire(morning, utc(2026, 3, 9, 15)))
    await asyncio.wait_for(run_job.started.wait(), 10)
    await scheduler.shutdown(timeout=0.05)
    assert task.cancelled()
    run = await store.last_run(morning.id)
    assert run is not None and (run.status, run.error) == ("failed", INTERRUPTED)


def test_the_time_before_a_slot_is_a_minute_before_it_across_dst() -> None:
    from reports.scheduler import AHEAD
    from reports.slots import Ahead

    morning = parse_cron("0 8 * * 1-5", LA)
    ahead = Ahead(morning, AHEAD)
    # Friday 6 March 2026, 20:00 PST: the next slot is Monday 9 March 08:00 PDT (DST began on the Sunday)
    now = datetime(2026, 3, 6, 20, 0, tzinfo=ZoneInfo(LA))
    first = ahead.get_next_fire_time(None, now)
    assert first == datetime(2026, 3, 9, 7, 59, tzinfo=ZoneInfo(LA))
    assert ahead.get_next_fire_time(first, first) == datetime(2026, 3, 10, 7, 59, tzinfo=ZoneInfo(LA))
    # between the minute before and the slot itself, the next one is the next day's
    assert ahead.get_next_fire_time(None, datetime(2026, 3, 9, 7, 59, 30, tzinfo=ZoneInfo(LA))) == datetime(
        2026, 3, 10, 7, 59, tzinfo=ZoneInfo(LA)
    )


async def test_before_slot_runs_ahead_of_each_job_and_follows_resync(store: JobStore) -> None:
    readied: list[str] = []
    ready = asyncio.Event()

    async def before_slot(job: Job) -> None:
        readied.append(job.name)
        ready.set()

    scheduler = ReportScheduler(store, Recorder(), before_slot=before_slot)
    morning = await job_named(store, "Morning report")
    try:
        await scheduler.start(catch_up=False)
        assert scheduler.apscheduler is not None
        slot = scheduler.apscheduler.get_job(str(morning.id)).next_run_time
        ahead = scheduler.apscheduler.get_job(f"{morning.id}:ahead")
        assert ahead is not None and slot - ahead.next_run_time == timedelta(minutes=1)
        scheduler.apscheduler.modify_job(f"{morning.id}:ahead", next_run_time=datetime.now(UTC))
        await asyncio.wait_for(ready.wait(), 10)
        assert readied == ["Morning report"]
        await store.set_enabled(morning.id, False)
        await scheduler.resync()
        assert scheduler.apscheduler.get_job(f"{morning.id}:ahead") is None
    finally:
        await scheduler.shutdown()


# --- runs whose sitrep died ---------------------------------------------------------------------------------


async def test_a_running_scheduler_takes_over_a_run_whose_owner_stopped_beating(store: JobStore, db: Database) -> None:
    # Another replica claimed the slot, then went silent (another host: only its heartbeat's age tells).
    morning = await job_named(store, "Morning report")
    await db.execute("UPDATE scheduled_jobs SET cron = '* * * * *' WHERE id = ?", (morning.id,))  # every minute
    slot = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    run_id = await store.claim(morning.id, slot)
    assert run_id is not None
    await db.execute("UPDATE job_runs SET owner = 'other-host:42:dead' WHERE id = ?", (run_id,))
    run_job = Recorder()
    scheduler = ReportScheduler(store, run_job, watch_every=0.05)
    try:
        await scheduler.start(catch_up=False)
        assert await scheduler.take_over_orphans() == []  # its heartbeat is fresh: it may still be at it
        await db.execute(
            "UPDATE job_runs SET heartbeat_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-91 seconds') WHERE id = ?",
            (run_id,),
        )
        await asyncio.wait_for(run_job.started.wait(), 10)  # the lease watch, not a start-up catch-up
    finally:
        await scheduler.shutdown()
    assert run_job.calls == [("Morning report", slot)]
    run = await store.run_for(morning.id, slot)
    assert run is not None and (run.id, run.status, run.message_ts) == (run_id, "posted", "1773068400.000001")


async def test_a_dead_owners_run_that_cannot_run_any_more_is_closed(store: JobStore, db: Database) -> None:
    morning, evening = await job_named(store, "Morning report"), await job_named(store, "Evening report")
    now = datetime.now(UTC)
    late = previous_fire(morning.cron, morning.timezone, now - timedelta(hours=3))  # past the 2 h grace
    moved = previous_fire(evening.cron, evening.timezone, now)
    assert late is not None and moved is not None
    dead = "owner = 'other-host:42:dead', heartbeat_at = '2020-01-01T00:00:00.000Z'"
    for job, slot in ((morning, late), (evening, moved)):
        run_id = await store.claim(job.id, slot)
        await db.execute(f"UPDATE job_runs SET {dead} WHERE id = ?", (run_id,))
    await db.execute("UPDATE scheduled_jobs SET cron = '30 21 * * *' WHERE id = ?", (evening.id,))  # moved since
    run_job = Recorder()
    scheduler = ReportScheduler(store, run_job)
    assert await scheduler.take_over_orphans() == []
    late_run, moved_run = await store.run_for(morning.id, late), await store.run_for(evening.id, moved)
    assert late_run is not None and late_run.status == "failed" and "grace" in (late_run.error or "")
    assert moved_run is not None and moved_run.status == "failed" and "moved since" in (moved_run.error or "")
    assert run_job.calls == []


# --- following the schedule in the store --------------------------------------------------------------------


def resyncs(scheduler: ReportScheduler) -> asyncio.Event:
    """Set each time the scheduler has resynced."""
    done = asyncio.Event()
    real = scheduler.resync

    async def resync() -> None:
        await real()
        done.set()

    scheduler.resync = resync  # type: ignore[method-assign]
    return done


async def test_a_scheduler_follows_a_change_made_by_another_process(storage: Storage, db_target: str) -> None:
    other = await Database.open(db_target)  # this scheduler's own connection: another replica, or the app
    scheduler = ReportScheduler(JobStore(other), Recorder(), follow_every=0.05)
    try:
        await scheduler.start(catch_up=False)
        assert {j.name for j in await scheduler.jobs.list(enabled_only=True)} == set()  # no channel yet
        followed = resyncs(scheduler)
        jobs = [{"name": "Deploy check", "time": "09:30", "timezone": "UTC", "channel": CHANNEL}]
        await storage.config.patch(DEFAULT_TEAM_ID, {"reports": {"jobs": jobs}}, "cli")  # `app.py config patch`
        await asyncio.wait_for(followed.wait(), 10)
        [(job_id, at)] = scheduler.next_fire_times().items()
        assert at is not None and (at.hour, at.minute) == (9, 30)
        assert (await scheduler.jobs.get(job_id)).name == "Deploy check"  # type: ignore[union-attr]
    finally:
        await scheduler.shutdown()
        await other.close()


async def test_a_trigger_set_from_an_old_schedule_does_not_post(store: JobStore, db: Database, db_target: str) -> None:
    # Another replica moved the Morning report; this one has not followed yet when its old trigger fires.
    run_job = Recorder()
    scheduler = ReportScheduler(store, run_job, follow_every=3600)
    morning = await job_named(store, "Morning report")
    other_db = await open_db(db_target)
    try:
        await scheduler.start(catch_up=False)
        assert scheduler.apscheduler is not None
        await JobStore(other_db).sync(DEFAULT_TEAM_ID, [ReportJob(name="Morning report", time="08:01")], CHANNEL, LA)
        followed = resyncs(scheduler)
        old_slot = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
        scheduler.apscheduler.modify_job(str(morning.id), next_run_time=old_slot)
        await asyncio.wait_for(followed.wait(), 10)  # it noticed the schedule had moved, and followed it
        assert scheduler.next_fire_times()[morning.id].minute == 1  # type: ignore[union-attr]
    finally:
        await scheduler.shutdown()
        await other_db.close()
    assert run_job.calls == [] and await store.run_for(morning.id, old_slot) is None


async def test_a_slot_due_between_a_change_and_following_it_is_run(store: JobStore, db: Database) -> None:
    run_job = Recorder()
    scheduler = ReportScheduler(store, run_job, follow_every=0.05)
    slot = datetime.now(UTC).replace(second=0, microsecond=0)
    try:
        await scheduler.start(catch_up=False)
        # Made elsewhere a second before the slot; this scheduler reads the change only after the slot.
        async with db.transaction() as conn:
            evening = ReportJob(name="Evening report", time=f"{slot:%H:%M}", timezone="UTC")
            await store.sync(DEFAULT_TEAM_ID, [evening], CHANNEL, LA, conn=conn)
            changed_at = (slot - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            await conn.execute("UPDATE scheduled_jobs SET updated_at = ? WHERE name = 'Evening report'", (changed_at,))
        await asyncio.wait_for(run_job.started.wait(), 10)
    finally:
        await scheduler.shutdown()
    assert run_job.calls == [("Evening report", slot)]
