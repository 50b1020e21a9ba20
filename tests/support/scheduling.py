"""The report scheduler's tests' helpers: a recording run_job, a database with the default team, the seeded jobs,
a clock, and an event for each resync."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from reports.scheduler import ReportScheduler
from storage.audit import AuditLog
from storage.db import Database
from storage.jobs import Job, JobStore
from storage.teams import TeamStore

LA = "America/Los_Angeles"
CHANNEL = "C0ADZHLL76V"


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


async def job_named(store: JobStore, name: str) -> Job:
    return next(job for job in await store.list() if job.name == name)


def resyncs(scheduler: ReportScheduler) -> asyncio.Event:
    """Set each time the scheduler has resynced."""
    done = asyncio.Event()
    real = scheduler.resync

    async def resync() -> None:
        await real()
        done.set()

    scheduler.resync = resync  # type: ignore[method-assign]
    return done
