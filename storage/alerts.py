"""AlertStore: one investigation per (team, alert fingerprint, firing period), claimed by an INSERT, and the queue
of investigations still to do.

`claim` returns the row and whether this call created it; the row keeps the alert as read (JSON), so it is work
any replica can do. Every other notification of the same alert and period counts itself (`notifications`) and
asks for the reply to be edited. `take` hands investigators the rows still without a reply, most severe first, and
marks them taken (`investigating_since`); a row taken longer ago than an investigation can last (its replica died)
is taken again, and `release` gives one back at once after a failure. `resolve` records when the period ended.
Times are UTC ISO text, as every table stores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from storage.db import Database
from storage.run_lease import HOST, OWNER, pid_alive
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
    alert: str = ""  # the alert as read (JSON: alerts/model.py's to_json); "" in rows from before 0014
    severity: int = 0
    start_seen: bool = False  # starts_at is when sitrep first saw it: the notification carried no start time
    post_id: int | None = None  # slack_outbox row of sitrep's post of the alert (webhook mode)
    reply_id: int | None = None  # slack_outbox row of the investigation's reply

    @property
    def replied(self) -> bool:
        """The reply is handed to the poster (or was posted before the outbox)."""
        return self.reply_id is not None or bool(self.reply_ts)


def _gone(investigator: Any, owner: str) -> bool:
    """Taken by another process of this host that no longer exists (this one restarted after a crash)."""
    if not investigator or investigator == owner:
        return False
    host, _, rest = str(investigator).partition(":")
    pid = rest.partition(":")[0]
    return host == HOST and pid.isdigit() and not pid_alive(int(pid))


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
        alert=str(row["alert"] or ""),
        severity=int(row["severity"] or 0),
        start_seen=bool(row["start_seen"]),
        post_id=int(row["post_id"]) if row["post_id"] is not None else None,
        reply_id=int(row["reply_id"]) if row["reply_id"] is not None else None,
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
        alert: str = "",
        severity: int = 0,
        start_seen: bool = False,
    ) -> tuple[Investigation, bool]:
        """(the investigation of this alert and period, True when this call created it: waiting to be taken). A
        second claim counts one more notification instead."""
        key = (team_id, fingerprint, iso(starts_at))
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO alert_investigations (team_id, fingerprint, starts_at, alert_name, source, channel,"
                " thread_ts, alert, severity, start_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (team_id, fingerprint, starts_at) DO NOTHING",
                (*key, alert_name[:200], source, channel, thread_ts, alert, severity, 1 if start_seen else 0),
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

    async def open_in_thread(self, team_id: str, channel: str, thread_ts: str) -> list[Investigation]:
        """The investigations not resolved whose replies are in one thread (the alerts one message stood for)."""
        if not thread_ts:
            return []
        rows = await self.db.fetchall(
            "SELECT * FROM alert_investigations WHERE team_id = ? AND channel = ? AND thread_ts = ?"
            " AND resolved_at IS NULL ORDER BY id",
            (team_id, channel, thread_ts),
        )
        return [_row(r) for r in rows]

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

    async def take(self, limit: int, started_before: datetime, owner: str = OWNER) -> list[Investigation]:
        """Up to `limit` rows still without a reply, not being investigated (never taken, released, taken before
        `started_before`, or taken by a process of this host that is gone), most severe first, then oldest; each
        marked taken now, by `owner`."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "SELECT id, investigating_since, investigator FROM alert_investigations"
                " WHERE reply_id IS NULL AND reply_ts = '' AND alert <> ''"
                " AND (investigating_since IS NULL OR investigating_since < ? OR investigator LIKE ?)"
                " ORDER BY severity DESC, starts_at, id LIMIT ?",
                (iso(started_before), f"{HOST}:%", limit * 4),
            )
            stale = iso(started_before)
            ids = [
                int(r["id"])
                for r in await cur.fetchall()
                if not r["investigating_since"] or r["investigating_since"] < stale or _gone(r["investigator"], owner)
            ][:limit]
            if not ids:
                return []
            marks = ",".join("?" * len(ids))
            cur = await conn.execute(
                f"UPDATE alert_investigations SET investigating_since = {NOW}, investigator = ? WHERE id IN ({marks})"
                " RETURNING *",
                (owner, *ids),
            )
            rows = [_row(r) for r in await cur.fetchall()]
        return sorted(rows, key=lambda r: (-r.severity, r.starts_at, r.id))

    async def waiting(self) -> int:
        """How many investigations have no reply yet (taken or not)."""
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM alert_investigations WHERE reply_id IS NULL AND reply_ts = '' AND alert <> ''"
        )
        return int(row["n"]) if row else 0

    async def release(self, investigation_id: int) -> None:
        """The investigator failed before the reply: the row may be taken again at once."""
        await self.db.execute(
            "UPDATE alert_investigations SET investigating_since = NULL WHERE id = ? AND reply_id IS NULL",
            (investigation_id,),
        )

    async def set_post(self, investigation_id: int, post_id: int) -> None:
        await self.db.execute(
            f"UPDATE alert_investigations SET post_id = ?, updated_at = {NOW} WHERE id = ?", (post_id, investigation_id)
        )

    async def set_reply(self, investigation_id: int, reply_id: int, text: str) -> None:
        """The investigation's reply is with the poster (outbox row `reply_id`), its body `text`."""
        await self.db.execute(
            f"UPDATE alert_investigations SET reply_id = ?, reply_text = ?, updated_at = {NOW} WHERE id = ?",
            (reply_id, text, investigation_id),
        )

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
