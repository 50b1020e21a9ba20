"""Scheduled jobs and their run ledger: seeding, listing, and the exactly-once claim of (job, slot).

`scheduled_jobs` is seeded with Morning 08:00 and Evening 20:00 in the team's time zone, enabled only with a
channel; once `reports.jobs` is set, `sync()` makes the table follow it by name, disabling jobs no longer listed
so their runs stay. `job_runs` is unique on job + slot: `claim()` is the exactly-once gate. A running run holds a
lease (storage/run_lease.py: owner host:pid:nonce, heartbeat): `claim()` takes over a run whose owner died (its
pid is gone on this host, or its heartbeat is older than 90 s), so a slot killed mid-report still posts once.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage import run_lease
from storage.audit import AuditLog
from storage.db import Database
from storage.team_config import REPORT_DAYS, REPORT_SECTIONS, ReportJob

KIND_STATUS_REPORT = "status_report"
MORNING_REPORT = "Morning report"
EVENING_REPORT = "Evening report"
DEFAULT_JOBS: tuple[tuple[str, str], ...] = ((MORNING_REPORT, "0 8 * * *"), (EVENING_REPORT, "0 20 * * *"))

RUN_STATUSES = ("running", "posted", "failed", "missed")
FINISHED_STATUSES = ("posted", "failed", "missed")
INTERRUPTED = "interrupted: sitrep stopped during the run"
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"


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


def check_timezone(tz: str) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{tz!r} is not an IANA time zone (like America/Los_Angeles)") from exc
    return tz


@dataclass(frozen=True)
class Job:
    id: int
    team_id: str
    name: str
    cron: str
    timezone: str
    channel: str | None
    kind: str
    enabled: bool
    created_at: str
    updated_at: str
    sections: tuple[str, ...] = REPORT_SECTIONS
    window_hours: float = 12
    thread_per_day: bool = False

    def spec(self, *, follows_team: bool = False) -> ReportJob:
        """The job as a config entry (reports.jobs); a schedule that is not "HH:MM on days" reads as daily.

        follows_team: leave channel and time zone unset, so the job follows reports.channel and reports.timezone.
        """
        minute, hour, _, _, dow = (self.cron.split() + ["*"] * 5)[:5]
        days = next((name for name, field in REPORT_DAYS.items() if field == dow), "daily")
        time = f"{int(hour):02d}:{int(minute):02d}" if hour.isdigit() and minute.isdigit() else "08:00"
        return ReportJob.model_validate(
            {
                "name": self.name,
                "time": time,
                "days": days,
                "timezone": None if follows_team else self.timezone,
                "channel": None if follows_team else self.channel,
                "sections": list(self.sections),
                "window_hours": max(1, round(self.window_hours)),
                "enabled": self.enabled,
                "thread_per_day": self.thread_per_day,
            }
        )


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


class JobStore:
    """scheduled_jobs and job_runs. Every write is one BEGIN IMMEDIATE transaction."""

    def __init__(self, db: Database, audit: AuditLog | None = None) -> None:
        self.db = db
        self.audit = audit

    async def seed_defaults(self, team_id: str, channel: str | None, timezone: str) -> builtins.list[Job]:
        """Make sure the Morning (08:00) and Evening (20:00) reports exist for the team. Idempotent.

        New jobs are enabled only when a channel is given. On later calls a changed channel or time zone is
        written to the seeded jobs (a changed channel also sets enabled to whether there is one); an unchanged
        environment leaves them alone, so a job someone disabled stays disabled.
        """
        check_timezone(timezone)
        channel = channel or None
        async with self.db.transaction() as conn:
            for name, cron in DEFAULT_JOBS:
                async with conn.execute(
                    "SELECT id, channel, timezone FROM scheduled_jobs WHERE team_id = ? AND name = ?", (team_id, name)
                ) as cur:
                    row = await cur.fetchone()
                if row is None:
                    await conn.execute(
                        "INSERT INTO scheduled_jobs (team_id, name, cron, timezone, channel, kind, enabled)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (team_id, name, cron, timezone, channel, KIND_STATUS_REPORT, int(channel is not None)),
                    )
                    await self._audit(conn, team_id, "jobs.seed", {"job": name, "channel": channel, "tz": timezone})
                    continue
                changes: dict[str, Any] = {}
                if row["timezone"] != timezone:
                    changes["timezone"] = timezone
                if row["channel"] != channel:
                    changes["channel"] = channel
                    changes["enabled"] = int(channel is not None)
                if changes:
                    sets = ", ".join(f"{column} = ?" for column in changes)
                    await conn.execute(
                        f"UPDATE scheduled_jobs SET {sets}, updated_at = {_NOW} WHERE id = ?",
                        (*changes.values(), row["id"]),
                    )
                    await self._audit(conn, team_id, "jobs.reseed", {"job": name, **changes})
        return await self.list(team_id)

    async def sync(
        self,
        team_id: str,
        specs: Sequence[ReportJob],
        channel: str | None,
        timezone: str,
        actor: str = "system",
    ) -> builtins.list[Job]:
        """Make the team's scheduled_jobs match reports.jobs: add or update each by name, disable the others.

        A job without its own channel or time zone takes the team's; a job with no channel at all stays off.
        Jobs are never deleted here, so their run history stays.
        """
        check_timezone(timezone)
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT * FROM scheduled_jobs WHERE team_id = ?", (team_id,)) as cur:
                existing = {row["name"]: _job(row) for row in await cur.fetchall()}
            wanted = set()
            for spec in specs:
                wanted.add(spec.name)
                target = spec.channel or channel or None
                row = {
                    "cron": spec.cron,
                    "timezone": spec.timezone or timezone,
                    "channel": target,
                    "enabled": int(spec.enabled and target is not None),
                    "sections": json.dumps(list(spec.sections)),
                    "window_hours": float(spec.window_hours),
                    "thread_per_day": int(spec.thread_per_day),
                }
                job = existing.get(spec.name)
                if job is None:
                    await conn.execute(
                        "INSERT INTO scheduled_jobs (team_id, name, cron, timezone, channel, kind, enabled, sections,"
                        " window_hours, thread_per_day) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (team_id, spec.name, row["cron"], row["timezone"], row["channel"], KIND_STATUS_REPORT,
                         row["enabled"], row["sections"], row["window_hours"], row["thread_per_day"]),
                    )  # fmt: skip
                    await self._audit(conn, team_id, "jobs.add", {"job": spec.name, **row}, actor)
                    continue
                before = {
                    "cron": job.cron,
                    "timezone": job.timezone,
                    "channel": job.channel,
                    "enabled": int(job.enabled),
                    "sections": json.dumps(list(job.sections)),
                    "window_hours": float(job.window_hours),
                    "thread_per_day": int(job.thread_per_day),
                }
                changes = {k: v for k, v in row.items() if before[k] != v}
                if changes:
                    await self._update(conn, job.id, changes)
                    await self._audit(conn, team_id, "jobs.update", {"job": spec.name, **changes}, actor)
            for name, job in existing.items():
                if name not in wanted and job.enabled:
                    await self._update(conn, job.id, {"enabled": 0})
                    await self._audit(conn, team_id, "jobs.disable", {"job": name}, actor)
        return await self.list(team_id)

    async def _update(self, conn: Any, job_id: int, changes: dict[str, Any]) -> None:
        sets = ", ".join(f"{column} = ?" for column in changes)
        await conn.execute(
            f"UPDATE scheduled_jobs SET {sets}, updated_at = {_NOW} WHERE id = ?", (*changes.values(), job_id)
        )

    async def list(self, team_id: str | None = None, enabled_only: bool = False) -> builtins.list[Job]:
        where, params = [], []
        if team_id is not None:
            where.append("team_id = ?")
            params.append(team_id)
        if enabled_only:
            where.append("enabled = 1")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = await self.db.fetchall(f"SELECT * FROM scheduled_jobs{clause} ORDER BY team_id, id", tuple(params))
        return [_job(row) for row in rows]

    async def get(self, job_id: int) -> Job | None:
        row = await self.db.fetchone("SELECT * FROM scheduled_jobs WHERE id = ?", (job_id,))
        return _job(row) if row else None

    async def set_enabled(self, job_id: int, enabled: bool, actor: str = "system") -> Job | None:
        """Enable or disable a job; returns it, or None when there is no such job."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                f"UPDATE scheduled_jobs SET enabled = ?, updated_at = {_NOW} WHERE id = ?", (int(enabled), job_id)
            )
            if cur.rowcount:
                job = await self.get(job_id)
                if job is not None:
                    action = "jobs.enable" if enabled else "jobs.disable"
                    await self._audit(conn, job.team_id, action, {"job": job.name}, actor)
        return await self.get(job_id)

    async def claim(self, job_id: int, scheduled_for: datetime | str) -> int | None:
        """Record that this process runs (job, slot): the run id, or None when someone else has it.

        The UNIQUE (job_id, scheduled_for) constraint decides, so this holds across connections and processes. A
        run left 'running' by a process that died (run_lease.owner_gone) is taken over: same row, new owner.
        """
        slot = slot_key(scheduled_for)
        async with self.db.transaction() as conn:
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

    async def _audit(self, conn: Any, team_id: str, action: str, detail: dict, actor: str = "system") -> None:
        if self.audit is not None:
            await self.audit.record(conn, team_id, actor, action, detail)


def _job(row: Any) -> Job:
    return Job(
        id=row["id"],
        team_id=row["team_id"],
        name=row["name"],
        cron=row["cron"],
        timezone=row["timezone"],
        channel=row["channel"],
        kind=row["kind"],
        enabled=bool(row["enabled"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        sections=tuple(json.loads(row["sections"])),
        window_hours=float(row["window_hours"]),
        thread_per_day=bool(row["thread_per_day"]),
    )


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
