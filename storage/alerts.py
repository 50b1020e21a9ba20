"""AlertStore: one investigation per (team, alert fingerprint, firing period), claimed by an INSERT.

`claim` returns the row and whether this call created it: only the creator investigates and posts the reply; every
other notification of the same alert and period counts itself (`notifications`) and asks for the reply to be
edited. `resolve` records when the period ended. A first reply that never came (the
investigator failed, or its replica died) is not waited for forever: `release` marks a failure at once, and
`take_over` lets the next notification (or a waiting edit) investigate a row whose investigator is gone or has
been at it longer than a first reply can take. Times are UTC ISO text, as every table stores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from storage.db import Database
from storage.sql import NOW
from storage.times import iso


@dataclass(frozen=True)
class Investigation:
    id: int
    team_id: str
    fingerprint: str
    starts_at: datetime
    alert_name: str
    source: str
    channel: str
    thread_ts: str
    reply_ts: str
    reply_text: str
    notifications: int
    resolved_at: datetime | None


def _time(text: Any) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(str(text).replace("Z", "+00:00")).astimezone(UTC)


def _row(row: Any) -> Investigation:
    return Investigation(
        id=int(row["id"]),
        team_id=str(row["team_id"]),
        fingerprint=str(row["fingerprint"]),
        starts_at=_time(row["starts_at"]) or datetime.fromtimestamp(0, UTC),
        alert_name=str(row["alert_name"]),
        source=str(row["source"]),
        channel=str(row["channel"]),
        thread_ts=str(row["thread_ts"]),
        reply_ts=str(row["reply_ts"]),
        reply_text=str(row["reply_text"]),
        notifications=int(row["notifications"]),
        resolved_at=_time(row["resolved_at"]),
    )


class AlertStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def open_for(self, team_id: str, fingerprint: str) -> Investigation | None:
        """The latest investigation of this fingerprint that is not resolved (a Slack message has no startsAt)."""
        row = await self.db.fetchone(
            "SELECT * FROM alert_investigations WHERE team_id = ? AND fingerprint = ? AND resolved_at IS NULL"
            " ORDER BY starts_at DESC LIMIT 1",
            (team_id, fingerprint),
        )
        return _row(row) if row else None

    async def claim(
        self,
        team_id: str,
        fingerprint: str,
        starts_at: datetime,
        *,
        alert_name: str,
        source: str,
        channel: str,
        thread_ts: str,
    ) -> tuple[Investigation, bool]:
        """(the investigation of this alert and period, True when this call created it). A second claim counts
        one more notification instead."""
        key = (team_id, fingerprint, iso(starts_at))
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO alert_investigations (team_id, fingerprint, starts_at, alert_name, source, channel,"
                f" thread_ts, investigating_since) VALUES (?, ?, ?, ?, ?, ?, ?, {NOW})"
                " ON CONFLICT (team_id, fingerprint, starts_at) DO NOTHING",
                (*key, alert_name[:200], source, channel, thread_ts),
            )
            created = cur.rowcount == 1
            if not created:
                await conn.execute(
                    f"UPDATE alert_investigations SET notifications = notifications + 1, updated_at = {NOW}"
                    " WHERE team_id = ? AND fingerprint = ? AND starts_at = ?",
                    key,
                )
            cur = await conn.execute(
                "SELECT * FROM alert_investigations WHERE team_id = ? AND fingerprint = ? AND starts_at = ?", key
            )
            row = await cur.fetchone()
        return _row(row), created

    async def get(self, investigation_id: int) -> Investigation | None:
        row = await self.db.fetchone("SELECT * FROM alert_investigations WHERE id = ?", (investigation_id,))
        return _row(row) if row else None

    async def save_reply(self, investigation_id: int, *, channel: str, reply_ts: str, text: str) -> None:
        await self.db.execute(
            f"UPDATE alert_investigations SET channel = ?, reply_ts = ?, reply_text = ?, updated_at = {NOW}"
            " WHERE id = ?",
            (channel, reply_ts, text, investigation_id),
        )

    async def save_text(self, investigation_id: int, text: str) -> None:
        await self.db.execute(
            f"UPDATE alert_investigations SET reply_text = ?, updated_at = {NOW} WHERE id = ?",
            (text, investigation_id),
        )

    async def release(self, investigation_id: int) -> None:
        """The investigator failed before the first reply: the next notification may take it over at once."""
        await self.db.execute(
            "UPDATE alert_investigations SET investigating_since = NULL WHERE id = ? AND reply_ts = ''",
            (investigation_id,),
        )

    async def take_over(self, investigation_id: int, started_before: datetime) -> bool:
        """Become the investigator of a row still without a reply whose investigator failed (released) or
        started before `started_before`; True when this call won it (one caller among replicas does)."""
        result = await self.db.execute(
            f"UPDATE alert_investigations SET investigating_since = {NOW}, updated_at = {NOW}"
            " WHERE id = ? AND reply_ts = '' AND (investigating_since IS NULL OR investigating_since < ?)",
            (investigation_id, iso(started_before)),
        )
        return result.rowcount == 1

    async def resolve(self, investigation_id: int, at: datetime) -> None:
        """The firing period ended at `at` (the first resolve notification wins)."""
        await self.db.execute(
            f"UPDATE alert_investigations SET resolved_at = ?, updated_at = {NOW} WHERE id = ? AND resolved_at IS NULL",
            (iso(at), investigation_id),
        )

    async def between(self, team_id: str, start: datetime, end: datetime) -> list[Investigation]:
        """Investigations whose alert started or resolved in [start, end) (what a report lists as new since the
        last one), oldest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM alert_investigations WHERE team_id = ?"
            " AND ((starts_at >= ? AND starts_at < ?) OR (resolved_at >= ? AND resolved_at < ?)) ORDER BY starts_at",
            (team_id, iso(start), iso(end), iso(start), iso(end)),
        )
        return [_row(r) for r in rows]
