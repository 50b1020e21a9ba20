"""Report runs whose sitrep died: every scheduler, on every replica, looks at every run left 'running' and takes
over those whose owner is gone (storage/run_lease.py: its pid is gone on this host, or its heartbeat is older
than the 90 s lease). Within the grace window the run is fired again (the claim takes the lease over, so one
replica runs it); past it, or when the job is off or its schedule no longer has that slot, the run is closed
as failed."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from metrics import SCHEDULER_SLOTS
from reports.cron import previous_fire
from storage import run_lease
from storage.jobs import Job, JobRun, JobStore

log = logging.getLogger(__name__)

PAST_GRACE = "interrupted: its sitrep stopped during the run, and the slot is past the grace window"
OFF = "interrupted: its sitrep stopped during the run, and the job is off or its schedule has moved since"

Fire = Callable[[Job, datetime], Awaitable[str | None]]
Spawn = Callable[[Coroutine[Any, Any, Any], str], None]


class Takeover:
    def __init__(
        self, jobs: JobStore, fire: Fire, spawn: Spawn, grace: timedelta, clock: Callable[[], datetime]
    ) -> None:
        self.jobs = jobs
        self.fire = fire
        self.spawn = spawn
        self.grace = grace
        self.clock = clock
        self._taking_over: set[int] = set()

    async def look(self) -> list[int]:
        """Take over (in the background, through `spawn`) every running run whose owner is gone; close those that
        cannot be run any more. The ids of the runs being taken over."""
        now = self.clock()
        taken: list[int] = []
        for run in await self.jobs.running():
            if run.id in self._taking_over or not run_lease.owner_gone(run.owner, run.heartbeat_at):
                continue
            job = await self.jobs.get(run.job_id)
            slot = run.scheduled_at
            if job is None or not job.enabled or previous_fire(job.cron, job.timezone, slot) != slot:
                await self._close(run, OFF)
            elif now - slot > self.grace:
                await self._close(run, PAST_GRACE)
            else:
                log.info(
                    "%s for %s: its sitrep (%s) is gone; taking the run over", job.name, run.scheduled_for, run.owner
                )
                self._taking_over.add(run.id)
                self.spawn(self._take_over(job, run), f"taking over {job.name}")
                taken.append(run.id)
        return taken

    async def _take_over(self, job: Job, run: JobRun) -> None:
        try:
            if await self.fire(job, run.scheduled_at):
                SCHEDULER_SLOTS.labels(outcome="taken_over").inc()
        finally:
            self._taking_over.discard(run.id)

    async def _close(self, run: JobRun, why: str) -> None:
        log.warning(
            "report run %d (%s) was left by a sitrep that stopped: closing it (%s)", run.id, run.scheduled_for, why
        )
        await self.jobs.finish(run.id, "failed", error=why)
