"""ReportScheduler and runs whose sitrep died (taken over, or closed), and following the schedule in the store (a
change made by another process; a trigger set from an old schedule)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from reports.scheduler import ReportScheduler, previous_fire
from storage.db import Database
from storage.jobs import JobStore
from storage.services import Storage
from storage.team_config import ReportJob
from storage.teams import DEFAULT_TEAM_ID
from tests.support.scheduling import CHANNEL, LA, Recorder, job_named, open_db, resyncs

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
