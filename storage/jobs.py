"""Scheduled jobs: seeding, syncing with `reports.jobs`, listing; with their run ledger (storage/job_runs.py).

`scheduled_jobs` is seeded with Morning 08:00 and Evening 20:00 in the team's time zone, enabled only with a
channel; once `reports.jobs` is set, `sync()` makes the table follow it by name, disabling jobs no longer listed
so their runs stay. Every change of a team's jobs bumps the team's `version` in the same transaction: each
running scheduler watches `version()` and resyncs when it moves, so every replica follows a change made anywhere.
`seed_defaults` and `sync` take the caller's transaction (`conn`) when the change is part of a larger one (the
config path, storage/config_changes.py).
"""

from __future__ import annotations

import builtins
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.audit import AuditLog
from storage.db import Database
from storage.job_runs import (  # noqa: F401 - re-exported: the ledger's names are the jobs' too
    FINISHED_STATUSES,
    INTERRUPTED,
    RUN_STATUSES,
    JobRun,
    RunLedger,
    StaleSchedule,
    parse_slot,
    slot_key,
)
from storage.team_config import REPORT_DAYS, REPORT_SECTIONS, ReportJob

KIND_STATUS_REPORT = "status_report"
MORNING_REPORT = "Morning report"
EVENING_REPORT = "Evening report"
DEFAULT_JOBS: tuple[tuple[str, str], ...] = ((MORNING_REPORT, "0 8 * * *"), (EVENING_REPORT, "0 20 * * *"))
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"


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


class JobStore(RunLedger):
    """scheduled_jobs and job_runs. Every write is one BEGIN IMMEDIATE transaction (or the caller's)."""

    def __init__(self, db: Database, audit: AuditLog | None = None) -> None:
        self.db = db
        self.audit = audit

    @asynccontextmanager
    async def _within(self, conn: Any) -> AsyncIterator[Any]:
        if conn is not None:
            yield conn
        else:
            async with self.db.transaction() as own:
                yield own

    async def version(self) -> int:
        """Moves whenever any team's report jobs or config change (the schedulers watch it)."""
        row = await self.db.fetchone("SELECT COALESCE(SUM(version), 0) AS v FROM teams")
        return int(row["v"]) if row else 0

    async def _bump(self, conn: Any, team_id: str) -> None:
        await conn.execute("UPDATE teams SET version = version + 1 WHERE id = ?", (team_id,))

    async def seed_defaults(
        self, team_id: str, channel: str | None, timezone: str, actor: str = "system", *, conn: Any = None
    ) -> builtins.list[Job]:
        """Make sure the Morning (08:00) and Evening (20:00) reports exist for the team. Idempotent.

        New jobs are enabled only when a channel is given. On later calls a changed channel or time zone is
        written to the seeded jobs (a changed channel also sets enabled to whether there is one); an unchanged
        environment leaves them alone, so a job someone disabled stays disabled.
        """
        check_timezone(timezone)
        channel = channel or None
        changed = False
        async with self._within(conn) as conn:
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
                    await self._audit(
                        conn, team_id, "jobs.seed", {"job": name, "channel": channel, "tz": timezone}, actor
                    )
                    changed = True
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
                    await self._audit(conn, team_id, "jobs.reseed", {"job": name, **changes}, actor)
                    changed = True
            if changed:
                await self._bump(conn, team_id)
        return await self.list(team_id)

    async def sync(
        self,
        team_id: str,
        specs: Sequence[ReportJob],
        channel: str | None,
        timezone: str,
        actor: str = "system",
        *,
        conn: Any = None,
    ) -> builtins.list[Job]:
        """Make the team's scheduled_jobs match reports.jobs: add or update each by name, disable the others.

        A job without its own channel or time zone takes the team's; a job with no channel at all stays off.
        Jobs are never deleted here, so their run history stays.
        """
        check_timezone(timezone)
        changed = False
        async with self._within(conn) as conn:
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
                    changed = True
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
                    changed = True
            for name, job in existing.items():
                if name not in wanted and job.enabled:
                    await self._update(conn, job.id, {"enabled": 0})
                    await self._audit(conn, team_id, "jobs.disable", {"job": name}, actor)
                    changed = True
            if changed:
                await self._bump(conn, team_id)
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
                    await self._bump(conn, job.team_id)
        return await self.get(job_id)

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
