"""ReportScheduler firing: exactly once across two databases, catch-up, failures, the real AsyncIOScheduler's
triggers, shutdown mid-run, the hook before each slot."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reports.scheduler import ReportScheduler
from storage.db import Database
from storage.jobs import INTERRUPTED, Job, JobStore
from storage.teams import DEFAULT_TEAM_ID
from tests.support.scheduling import CHANNEL, LA, Recorder, frozen, job_named, open_db, utc

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
