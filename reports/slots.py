"""What the report scheduler's pieces share: the clock, an exception as one line, a delay as "1h05m", the
APScheduler executor that hands a job its slot (APScheduler 3 does not hand the scheduled fire time to the job;
`SlotExecutor` does, through a context var that the job's task copies when AsyncIOExecutor creates it), and the
trigger that fires a while before each slot of another (`Ahead`)."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.triggers.base import BaseTrigger

ERROR_LIMIT = 300

SCHEDULED_FOR: ContextVar[datetime | None] = ContextVar("sitrep_scheduled_for", default=None)


def utc_now() -> datetime:
    return datetime.now(UTC)


def one_line_error(exc: BaseException, limit: int = ERROR_LIMIT) -> str:
    """An exception as one short line for job_runs.error and the readiness row."""
    one_line = getattr(exc, "one_line", None)
    text = one_line() if callable(one_line) else str(exc)
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not callable(one_line):
        first = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return first if len(first) <= limit else first[: limit - 1] + "…"


def short(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"


class SlotExecutor(AsyncIOExecutor):
    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        token = SCHEDULED_FOR.set(run_times[-1])
        try:
            super()._do_submit_job(job, run_times)
        finally:
            SCHEDULED_FOR.reset(token)


class Ahead(BaseTrigger):
    """The fire times of `trigger`, each `ahead` earlier."""

    def __init__(self, trigger: BaseTrigger, ahead: timedelta) -> None:
        self.trigger, self.ahead = trigger, ahead

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        previous = previous_fire_time + self.ahead if previous_fire_time is not None else None
        fire = self.trigger.get_next_fire_time(previous, now + self.ahead)
        return fire - self.ahead if fire is not None else None
