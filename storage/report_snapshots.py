"""SnapshotStore: what each posted scheduled report found (report_snapshots), so the next report of the same job
says what is new since it, and the Slack thread of the job's day when its reports go one thread per day."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.db import Database
from storage.times import iso, parse


@dataclass(frozen=True)
class Snapshot:
    job_id: int
    scheduled_for: str
    taken_at: datetime  # the end of the report's window
    day: str  # the report's date in the job's time zone, YYYY-MM-DD
    channel: str
    message_ts: str
    thread_ts: str  # the day's first report of the job (its own ts when it is that one)
    data: dict[str, Any]


class SnapshotStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def save(self, snap: Snapshot) -> None:
        """Record a posted report (once per job and slot: a retried slot keeps the last post)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO report_snapshots (job_id, scheduled_for, taken_at, day, channel, message_ts, thread_ts,"
                " snapshot) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_id, scheduled_for) DO UPDATE SET"
                " taken_at = excluded.taken_at, day = excluded.day, channel = excluded.channel,"
                " message_ts = excluded.message_ts, thread_ts = excluded.thread_ts, snapshot = excluded.snapshot",
                (snap.job_id, snap.scheduled_for, iso(snap.taken_at), snap.day, snap.channel, snap.message_ts,
                 snap.thread_ts, json.dumps(snap.data, separators=(",", ":"))),
            )  # fmt: skip

    async def previous(self, job_ids: Sequence[int], before: str) -> Snapshot | None:
        """The last report of these jobs (a job and its siblings: the seeded Morning and Evening reports) posted
        for a slot before `before` (a slot key)."""
        if not job_ids:
            return None
        marks = ",".join("?" for _ in job_ids)
        row = await self.db.fetchone(
            f"SELECT * FROM report_snapshots WHERE job_id IN ({marks}) AND scheduled_for < ?"
            " ORDER BY scheduled_for DESC LIMIT 1",
            (*job_ids, before),
        )
        return _snapshot(row) if row else None

    async def thread_of_day(self, job_ids: Sequence[int], day: str, channel: str) -> str | None:
        """The ts of the first of these jobs' reports of `day` in `channel`, for the day's later ones to reply to."""
        if not job_ids:
            return None
        marks = ",".join("?" for _ in job_ids)
        row = await self.db.fetchone(
            f"SELECT message_ts FROM report_snapshots WHERE job_id IN ({marks}) AND day = ? AND channel = ?"
            " AND message_ts <> '' ORDER BY scheduled_for LIMIT 1",
            (*job_ids, day, channel),
        )
        return str(row["message_ts"]) if row else None


def _snapshot(row: Any) -> Snapshot:
    try:
        data = json.loads(row["snapshot"])
    except ValueError:
        data = {}
    return Snapshot(
        job_id=int(row["job_id"]),
        scheduled_for=row["scheduled_for"],
        taken_at=parse(row["taken_at"]),
        day=row["day"],
        channel=row["channel"],
        message_ts=row["message_ts"],
        thread_ts=row["thread_ts"],
        data=data if isinstance(data, dict) else {},
    )
