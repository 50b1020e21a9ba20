"""The run ledger of scheduled jobs: `job_runs`, unique on job + slot, so `claim()` is the exactly-once gate.

A slot is the trigger's fire time in UTC (`slot_key`). A claim is made against the schedule in the store: given
the cron and time zone the claiming trigger was set from, a job whose stored schedule is no longer that (moved
through another replica, or disabled) is not claimed (`StaleSchedule`), so a replica that has not followed a
change yet cannot post at the old time. A running run holds a lease (storage/run_lease.py: owner host:pid:nonce,
heartbeat): `claim()` takes over a run whose owner died (its pid is gone on this host, or its heartbeat is older
than 90 s), so a slot killed mid-report still posts once. `JobStore` (storage/jobs.py) is this ledger plus the
jobs themselves.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from storage import run_lease
from storage.db import Database

RUN_STATUSES = ("running", "posted", "failed", "missed")
FINISHED_STATUSES = ("posted", "failed", "missed")
INTERRUPTED = "interrupted: sitrep stopped during the run"
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"


class StaleSchedule(LookupError):
    """The job's schedule in the store is no longer the one the claiming trigger was set from (or it is off)."""


def slot_key(when: datetime | str) -> str:
    """A slot as stored in job_runs.scheduled_for: UTC, ISO 8601, whole seconds ("2026-03-09T15:00:00Z")."""
    if isinstance(when, str):
        when = datetime.fromisoformat(when.replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError(f"slot time {when!r} has no time zone")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_slot(value: str) -> datetime:
    """The aware UTC datetime of a stored scheduled_for."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


@dataclass(frozen=True)
class JobRun:
    id: int
    job_id: int
    scheduled_for: str
    status: str
    started_at: str | None
    finished_at: str | None
    message_ts: str | None
    channel: str | None
    error: str | None
    owner: str | None = None  # while running: the process holding its lease (storage/run_lease.py)
    heartbeat_at: str | None = None

    @property
    def scheduled_at(self) -> datetime:
        return parse_slot(self.scheduled_for)


class RunLedger:
    """job_runs. Every write is one BEGIN IMMEDIATE transaction."""

    db: Database

    async def claim(
        self, job_id: int, scheduled_for: datetime | str, *, schedule: tuple[str, str] | None = None
    ) -> int | None:
        """Record that this process runs (job, slot): the run id, or None when someone else has it.

        The UNIQUE (job_id, scheduled_for) constraint decides, so this holds across connections and processes. A
        run left 'running' by a process that died (run_lease.owner_gone) is taken over: same row, new owner. With
        `schedule` (the cron and time zone the slot was worked out from), raises StaleSchedule unless the job in
        the store still has that schedule and is on, checked in the same transaction as the claim.
        """
        slot = slot_key(scheduled_for)
        async with self.db.transaction() as conn:
            if schedule is not None:
                async with conn.execute(
                    "SELECT cron, timezone, enabled FROM scheduled_jobs WHERE id = ?", (job_id,)
                ) as rows:
                    job = await rows.fetchone()
                if job is None:
                    raise LookupError(f"no scheduled job {job_id}")
                if (job["cron"], job["timezone"]) != schedule or not job["enabled"]:
                    state = "is off" if not job["enabled"] else f"is now {job['cron']!r} in {job['timezone']}"
                    raise StaleSchedule(f"job {job_id} {state}, not {schedule[0]!r} in {schedule[1]}")
            cur = await conn.execute(
                "INSERT INTO job_runs (job_id, scheduled_for, status, started_at, channel, owner, heartbeat_at)"
                f" SELECT id, ?, 'running', {_NOW}, channel, ?, {_NOW} FROM scheduled_jobs WHERE id = ?"
                " ON CONFLICT (job_id, scheduled_for) DO NOTHING",
                (slot, run_lease.OWNER, job_id),
            )
            if cur.rowcount == 1:
                return cur.lastrowid
            async with conn.execute(
                "SELECT id, status, owner, heartbeat_at FROM job_runs WHERE job_id = ? AND scheduled_for = ?",
                (job_id, slot),
            ) as rows:
                row = await rows.fetchone()
            if row is None:
                raise LookupError(f"no scheduled job {job_id}")
            if row["status"] != "running" or not run_lease.owner_gone(row["owner"], row["heartbeat_at"]):
                return None
            await conn.execute(
                f"UPDATE job_runs SET owner = ?, heartbeat_at = {_NOW}, started_at = {_NOW} WHERE id = ?",
                (run_lease.OWNER, row["id"]),
            )
            return int(row["id"])

    async def heartbeat(self, run_id: int) -> bool:
        """Renew this process's lease on a running run; False when it is no longer ours."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                f"UPDATE job_runs SET heartbeat_at = {_NOW} WHERE id = ? AND owner = ? AND status = 'running'",
                (run_id, run_lease.OWNER),
            )
            return cur.rowcount == 1

    async def finish(
        self,
        run_id: int,
        status: str,
        message_ts: str | None = None,
        error: str | None = None,
        channel: str | None = None,
    ) -> None:
        """Close a claimed run as posted or failed (with the message ts or a one-line error)."""
        if status not in FINISHED_STATUSES:
            raise ValueError(f"a run finishes as one of {FINISHED_STATUSES}, not {status!r}")
        async with self.db.transaction() as conn:
            await conn.execute(
                f"UPDATE job_runs SET status = ?, finished_at = {_NOW}, message_ts = ?, error = ?,"
                " channel = COALESCE(?, channel) WHERE id = ?",
                (status, message_ts, error, channel, run_id),
            )

    async def record_missed(self, job_id: int, scheduled_for: datetime | str, reason: str | None = None) -> int | None:
        """Record a slot nobody ran (sitrep was down past the grace window); None when the slot already has a row."""
        slot = slot_key(scheduled_for)
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO job_runs (job_id, scheduled_for, status, finished_at, channel, error)"
                f" SELECT id, ?, 'missed', {_NOW}, channel, ? FROM scheduled_jobs WHERE id = ?"
                " ON CONFLICT (job_id, scheduled_for) DO NOTHING",
                (slot, reason, job_id),
            )
            return cur.lastrowid if cur.rowcount == 1 else None

    async def run_for(self, job_id: int, scheduled_for: datetime | str) -> JobRun | None:
        row = await self.db.fetchone(
            "SELECT * FROM job_runs WHERE job_id = ? AND scheduled_for = ?", (job_id, slot_key(scheduled_for))
        )
        return _run(row) if row else None

    async def last_run(self, job_id: int) -> JobRun | None:
        row = await self.db.fetchone(
            "SELECT * FROM job_runs WHERE job_id = ? ORDER BY scheduled_for DESC, id DESC LIMIT 1", (job_id,)
        )
        return _run(row) if row else None

    async def runs(self, job_id: int, limit: int = 20) -> builtins.list[JobRun]:
        """The job's most recent runs, newest slot first."""
        rows = await self.db.fetchall(
            "SELECT * FROM job_runs WHERE job_id = ? ORDER BY scheduled_for DESC, id DESC LIMIT ?", (job_id, limit)
        )
        return [_run(row) for row in rows]

    async def running(self) -> builtins.list[JobRun]:
        """Every run still 'running', of any process, oldest slot first (the lease watch reads their owners)."""
        rows = await self.db.fetchall("SELECT * FROM job_runs WHERE status = 'running' ORDER BY scheduled_for, id")
        return [_run(row) for row in rows]

    async def fail_stale(self, older_than_seconds: int, error: str = INTERRUPTED) -> int:
        """Close runs left 'running' (their process died) that started more than the given seconds ago."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                f"UPDATE job_runs SET status = 'failed', finished_at = {_NOW}, error = ?"
                " WHERE status = 'running'"
                " AND started_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)",
                (error, f"-{int(older_than_seconds)} seconds"),
            )
            return cur.rowcount


def _run(row: Any) -> JobRun:
    return JobRun(
        id=row["id"],
        job_id=row["job_id"],
        scheduled_for=row["scheduled_for"],
        status=row["status"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        message_ts=row["message_ts"],
        channel=row["channel"],
        error=row["error"],
        owner=row["owner"],
        heartbeat_at=row["heartbeat_at"],
    )
