"""scheduled_jobs -> APScheduler cron triggers, each firing claimed once in job_runs; catch-up after downtime.

A firing is keyed by its slot: the trigger's scheduled fire time in UTC (never the wall clock when the code ran),
so two sitrep processes on one database, or a firing racing the start-up catch-up, post each slot once. Every
`watch_every` seconds each scheduler takes over the runs whose sitrep died (reports/takeover.py), so a report
whose replica died is still posted, by another replica, within the grace window.

The store is the truth for the schedule. Every `follow_every` seconds each scheduler reads the jobs' version
(storage/jobs.py: bumped with every change of the jobs or the config, from any process) and resyncs when it
moved; a change made in this process through storage/config_changes.py resyncs it at once. A slot that fell due
between a change and this scheduler following it is run then. A firing claims its slot against the schedule in
the store (the cron and time zone its trigger was set from), so a scheduler that has not followed a move yet
cannot post at the old time. Background work (catch-up, the lease watch, the version watch, each run's
heartbeat) is spawned on the Supervisor.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from metrics import SCHEDULER_SLOTS
from reports.cron import crontab_weekdays, next_fire, parse_cron, previous_fire  # noqa: F401 - re-exported
from reports.slots import SCHEDULED_FOR, Ahead, SlotExecutor, one_line_error, short, utc_now
from reports.takeover import Takeover
from storage import run_lease
from storage.config_changes import ConfigChanges
from storage.jobs import INTERRUPTED, Job, JobStore, StaleSchedule, parse_slot, slot_key
from supervisor import Supervisor

log = logging.getLogger(__name__)

RunJob = Callable[[Job, datetime], Awaitable[str | None]]
Clock = Callable[[], datetime]
BeforeSlot = Callable[[Job], Awaitable[None]]  # run `AHEAD` before each slot (reports/warm.py: discovery refreshed)

DEFAULT_GRACE = timedelta(hours=2)
AHEAD = timedelta(minutes=1)
FOLLOW_S = 2.0  # how often the schedule's version in the store is read
STALE_RUN = timedelta(hours=1)


class ReportScheduler:
    """One cron trigger per enabled job, in the job's own time zone; every firing claims its slot first."""

    def __init__(
        self,
        jobs: JobStore,
        run_job: RunJob,
        *,
        grace: timedelta = DEFAULT_GRACE,
        clock: Clock = utc_now,
        before_slot: BeforeSlot | None = None,
        supervisor: Supervisor | None = None,
        watch_every: float = run_lease.HEARTBEAT_S,
        follow_every: float = FOLLOW_S,
        changes: ConfigChanges | None = None,
    ) -> None:
        self.jobs = jobs
        self.run_job = run_job
        self.before_slot = before_slot
        self.grace = grace
        self.watch_every = watch_every
        self.follow_every = follow_every
        self.changes = changes  # this process's config path: a change made through it resyncs at once
        self._clock = clock
        self._supervisor = supervisor or Supervisor()
        self._scheduler: AsyncIOScheduler | None = None
        self._jobs: dict[int, Job] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._inflight: set[asyncio.Task[Any]] = set()
        self._takeover = Takeover(jobs, self.fire, self._spawn, grace, clock)  # runs whose sitrep died
        self._watching: list[asyncio.Task[Any]] = []
        self._version: int | None = None  # the jobs' version in the store when last resynced
        self._following = False  # triggers set at least once since start
        self._unfollow: Callable[[], None] | None = None

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    @property
    def apscheduler(self) -> AsyncIOScheduler | None:
        """The underlying scheduler while started (for diagnostics and tests)."""
        return self._scheduler

    async def start(self, *, catch_up: bool = True) -> None:
        """Start APScheduler in the running loop, add the triggers, then catch up missed slots in the background."""
        if self.running:
            return
        scheduler = AsyncIOScheduler(
            timezone=UTC,
            executors={"default": SlotExecutor()},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": max(1, int(self.grace.total_seconds())),
            },
        )
        scheduler.add_listener(self._on_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR)
        scheduler.start()
        self._scheduler = scheduler
        await self.resync()
        try:
            stale = await self.jobs.fail_stale(int(STALE_RUN.total_seconds()))
            if stale:
                log.warning("marked %d report run(s) left running by a stopped process as failed", stale)
        except Exception:
            log.exception("could not close stale report runs")
        log.info("report scheduler started with %d job(s)", len(self._jobs))
        if catch_up:
            self._spawn(self.catch_up(), "catch-up")
        spawn = self._supervisor.spawn
        self._watching = [
            spawn(self._watch_leases(), "report scheduler: watching report leases", group="scheduler"),
            spawn(self._follow_store(), "report scheduler: following the schedule in the store", group="scheduler"),
        ]
        if self.changes is not None:
            self._unfollow = self.changes.follow(lambda team: self.resync())

    async def resync(self) -> None:
        """Re-read scheduled_jobs and make the triggers match: add new jobs, replace changed ones, drop disabled."""
        previous = self._jobs
        self._version = await self.jobs.version()  # read first: a change made meanwhile moves it again
        self._jobs = {job.id: job for job in await self.jobs.list(enabled_only=True)}
        scheduler = self._scheduler
        if scheduler is None or not scheduler.running:
            return
        first, self._following = not self._following, True
        for scheduled in scheduler.get_jobs():
            job_id = scheduled.id.removesuffix(":ahead")  # a job's own trigger, and the one before its slots
            if not job_id.isdigit() or int(job_id) not in self._jobs:
                scheduler.remove_job(scheduled.id)
        for job in self._jobs.values():
            before = previous.get(job.id)
            unchanged = before is not None and (before.cron, before.timezone) == (job.cron, job.timezone)
            if unchanged and scheduler.get_job(str(job.id)) is not None:
                continue  # keep its next run time: replacing it at the instant it is due would skip that slot
            try:
                trigger = parse_cron(job.cron, job.timezone)
            except ValueError as exc:
                log.error("%s (job %d) is not scheduled: %s", job.name, job.id, exc)
                continue
            scheduler.add_job(
                self._on_trigger,
                trigger,
                args=(job.id,),
                id=str(job.id),
                name=f"{job.name} [{job.team_id}]",
                replace_existing=True,
            )
            if self.before_slot is not None:
                ahead, name = Ahead(trigger, AHEAD), f"before {job.name} [{job.team_id}]"
                scheduler.add_job(self._ahead, ahead, args=(job.id,), id=f"{job.id}:ahead", name=name,
                                  replace_existing=True)  # fmt: skip
            if not first:
                self._run_if_due_since_changed(job)

    def _run_if_due_since_changed(self, job: Job) -> None:
        """A slot of the new schedule that fell due after the change and before this resync is run now."""
        now = self._clock()
        slot = previous_fire(job.cron, job.timezone, now)
        changed_at = parse_slot(job.updated_at)
        if slot is not None and changed_at <= slot and now - slot <= self.grace:
            log.info("%s for %s fell due before this sitrep followed the change; running it", job.name, slot)
            self._spawn(self.fire(job, slot), f"running {job.name} due since its change")

    async def _follow_store(self) -> None:
        while True:
            await asyncio.sleep(self.follow_every)
            try:
                if await self.jobs.version() != self._version:
                    log.info("the report schedule changed in the store; following it")
                    await self.resync()
            except Exception as exc:  # the database is away: next time
                log.warning("reading the report schedule's version failed: %s", one_line_error(exc))

    async def shutdown(self, timeout: float = 5.0) -> None:
        """Stop firing; runs in flight get up to `timeout` seconds, then are cancelled (and recorded failed)."""
        scheduler, self._scheduler, self._following = self._scheduler, None, False
        if scheduler is not None and scheduler.running:
            scheduler.pause()
        for watching in self._watching:
            watching.cancel()
        self._watching = []
        if self._unfollow is not None:
            self._unfollow()
            self._unfollow = None
        pending = {t for t in self._inflight | self._background if not t.done()}
        if pending:
            _, pending = await asyncio.wait(pending, timeout=timeout)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler.shutdown runs on the loop's next turn
        log.info("report scheduler stopped")

    def next_fire_times(self) -> dict[int, datetime | None]:
        """Each enabled job's next slot in its time zone: from APScheduler when started, else from the clock."""
        times: dict[int, datetime | None] = {}
        scheduler = self._scheduler if self.running else None
        now = self._clock()
        for job_id, job in self._jobs.items():
            if scheduler is not None:
                scheduled = scheduler.get_job(str(job_id))
                times[job_id] = scheduled.next_run_time if scheduled is not None else None
                continue
            try:
                times[job_id] = next_fire(job.cron, job.timezone, now)
            except ValueError:
                times[job_id] = None
        return times

    async def fire(self, job: Job, scheduled_for: datetime) -> str | None:
        """Claim (job, slot), run it, record the outcome: 'posted', 'failed', or None when not ours to run.

        Never raises (cancellation excepted: the run is recorded failed and the cancel goes on).
        """
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            try:
                slot = slot_key(scheduled_for)
                run_id = await self.jobs.claim(job.id, slot, schedule=(job.cron, job.timezone))
            except StaleSchedule as exc:
                log.info("%s at %s is not run: its schedule changed (%s)", job.name, scheduled_for, exc)
                self._spawn(self.resync(), "following a changed schedule")
                return None
            except Exception as exc:
                log.error("%s at %s: could not claim the slot: %s", job.name, scheduled_for, one_line_error(exc))
                return None
            if run_id is None:
                log.info(
                    "%s at %s was already claimed by another sitrep; not running it unless it dies", job.name, slot
                )
                return None
            SCHEDULER_SLOTS.labels(outcome="claimed").inc()
            log.info("running %s for %s (run %d)", job.name, slot, run_id)
            beating = self._supervisor.spawn(
                self._heartbeat(run_id), f"lease of report run {run_id}", group="scheduler"
            )
            try:
                message_ts = await self.run_job(job, parse_slot(slot))
            except asyncio.CancelledError:
                await self._finish(run_id, "failed", error=INTERRUPTED)
                raise
            except Exception as exc:
                error = one_line_error(exc)
                log.warning("%s for %s failed: %s", job.name, slot, error)
                await self._finish(run_id, "failed", error=error)
                return "failed"
            finally:
                beating.cancel()
            await self._finish(run_id, "posted", message_ts=message_ts)
            return "posted"
        finally:
            if task is not None:
                self._inflight.discard(task)

    async def _heartbeat(self, run_id: int) -> None:
        """Keep this process's lease on the run while it works (storage/run_lease.py)."""
        while True:
            await asyncio.sleep(run_lease.HEARTBEAT_S)
            try:
                await self.jobs.heartbeat(run_id)
            except Exception as exc:
                log.warning("renewing the lease of report run %d failed: %s", run_id, one_line_error(exc))

    async def _watch_leases(self) -> None:
        while True:
            await asyncio.sleep(self.watch_every)
            try:
                await self.take_over_orphans()
            except Exception as exc:  # the database is away: next time
                log.warning("looking for report runs whose sitrep died failed: %s", one_line_error(exc))

    async def take_over_orphans(self) -> list[int]:
        """Take over the runs whose sitrep died (reports/takeover.py); the ids of those being taken over."""
        return await self._takeover.look()

    async def _finish(
        self, run_id: int, status: str, *, message_ts: str | None = None, error: str | None = None
    ) -> None:
        try:
            await self.jobs.finish(run_id, status, message_ts=message_ts, error=error)
        except Exception:
            log.exception("could not record report run %d as %s", run_id, status)

    async def catch_up(self) -> dict[int, str]:
        """For each enabled job, its latest slot at or before now: run it once if within grace, else record missed.

        Returns each job's outcome: posted, failed, missed, claimed elsewhere, already <status>, or no slot.
        """
        now = self._clock()
        jobs = await self.jobs.list(enabled_only=True)
        outcomes = await asyncio.gather(*(self._catch_up_one(job, now) for job in jobs))
        for job, outcome in zip(jobs, outcomes, strict=True):
            log.info("catch-up of %s: %s", job.name, outcome)
        return {job.id: outcome for job, outcome in zip(jobs, outcomes, strict=True)}

    async def _catch_up_one(self, job: Job, now: datetime) -> str:
        try:
            slot = previous_fire(job.cron, job.timezone, now)
            if slot is None:
                return "no slot"
            existing = await self.jobs.run_for(job.id, slot)
            if existing is not None and existing.status != "running":
                return f"already {existing.status}"
            late = now - slot
            if late <= self.grace:
                log.info("catching up %s for %s (%s late)", job.name, slot_key(slot), short(late))
                outcome = await self.fire(job, slot)  # a run left by a dead process is taken over
                if outcome:
                    SCHEDULER_SLOTS.labels(outcome="caught_up").inc()
                elif existing is not None:
                    return "already running"  # its owner is alive; the lease watch takes it over if it dies
                return outcome or "claimed elsewhere"
            if existing is not None:
                return "already running"
            reason = f"sitrep was not running; {short(late)} late is past the {short(self.grace)} grace window"
            log.warning("%s for %s missed: %s", job.name, slot_key(slot), reason)
            await self.jobs.record_missed(job.id, slot, reason)
            SCHEDULER_SLOTS.labels(outcome="missed").inc()
            return "missed"
        except ValueError as exc:
            log.error("%s (job %d) cannot be caught up: %s", job.name, job.id, exc)
            return "invalid schedule"
        except Exception:
            log.exception("catch-up of %s (job %d) failed", job.name, job.id)
            return "error"

    async def _on_trigger(self, job_id: int) -> None:
        """APScheduler's job function: fire the current definition of the job for the trigger's slot."""
        scheduled_for = SCHEDULED_FOR.get()
        try:
            job, believed = await self.jobs.get(job_id), self._jobs.get(job_id)
            if job is None or not job.enabled:
                log.info("job %d fired but is gone or disabled; skipping", job_id)
                return
            if believed is None or (believed.cron, believed.timezone) != (job.cron, job.timezone):
                log.info("%s fired on a schedule that has changed since; following the new one", job.name)
                await self.resync()
                return
            if scheduled_for is None:  # not started through SlotExecutor: the due slot is the latest one
                scheduled_for = previous_fire(job.cron, job.timezone, utc_now())
                if scheduled_for is None:
                    return
            await self.fire(job, scheduled_for)
        except Exception:
            log.exception("report job %d failed outside its run", job_id)

    async def _ahead(self, job_id: int) -> None:
        """APScheduler's job function `AHEAD` before each slot: the before_slot hook; never raises."""
        job = self._jobs.get(job_id)
        if job is None or self.before_slot is None:
            return
        try:
            await self.before_slot(job)
        except Exception as exc:  # the slot itself still runs; it only starts colder
            log.warning("getting ready for %s failed: %s", job.name, one_line_error(exc))

    def _on_event(self, event: JobEvent) -> None:
        """APScheduler listener: a firing skipped for lateness or overlap is recorded 'missed'."""
        if event.code == EVENT_JOB_ERROR:
            log.error("report job %s raised: %s", event.job_id, getattr(event, "exception", None))
            return
        if not str(event.job_id).isdigit():
            return
        if event.code == EVENT_JOB_MISSED:
            times = [event.scheduled_run_time]
            reason = f"fired more than {short(self.grace)} late (event loop blocked or machine asleep)"
        else:
            times = list(getattr(event, "scheduled_run_times", []))
            reason = "skipped: the previous run of this job was still going"
        for when in times:
            log.warning("job %s for %s missed: %s", event.job_id, slot_key(when), reason)
            SCHEDULER_SLOTS.labels(outcome="missed").inc()
            self._spawn(self.jobs.record_missed(int(event.job_id), when, reason), "record missed slot")

    def _spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> None:
        task = self._supervisor.spawn(coro, f"report scheduler: {what}", group="scheduler")
        self._background.add(task)
        task.add_done_callback(self._background.discard)
