"""The Slack event ledger: each event_id is handled by one replica, once, and is recorded before it is acked.

`record()` is an INSERT … ON CONFLICT DO NOTHING on the event_id primary key: the replica whose insert lands
handles the event; every other delivery of it (Slack's retries, on whichever connection) is acked and dropped.
Events that get an answer are stored with their payload and stay 'received' until `posting()` (right before
the answer goes to Slack) and `finish()`; when their replica stops beating (storage/replicas.py) while they are
still 'received', a live replica `adopt()`s them, so an acked mention is answered even if the replica that acked
it was killed, and never answered twice.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from storage.db import Database
from storage.sql import NOW

RECEIVED, POSTING, DONE = "received", "posting", "done"
KEEP_HOURS = 24


@dataclass(frozen=True)
class OpenEvent:
    event_id: str
    event_type: str | None
    body: dict[str, Any]  # the events_api payload as Slack sent it
    attempts: int


RECORD_SQL = (
    "INSERT INTO slack_events (event_id, team_id, event_type, replica, status, payload)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING"
)


class EventLedger:
    def __init__(self, db: Database, replica_id: str) -> None:
        self.db = db
        self.replica_id = replica_id
        # Group commit: events that arrive while a write is under way are recorded together in the next one, so a
        # burst of 100 mentions costs a few transactions before their acks, not 100 in a row. The callers take turns
        # (FIFO): whoever holds the turn writes everything waiting, its own event among them.
        self._waiting: list[tuple[tuple[Any, ...], asyncio.Future[bool]]] = []
        self._turn = asyncio.Lock()

    async def record(self, event_id: str, body: dict[str, Any], *, answer: bool) -> bool:
        """True when this replica is the first to see `event_id` (it handles it); False for a repeat.

        `answer`: the event gets an answer; its payload is kept until `finish()` so it can be adopted.
        Raises what the database raised when the event could not be recorded (it is then not acked).
        """
        event = body.get("event")
        event_type = _text(event.get("type")) if isinstance(event, dict) else None
        params = (
            event_id,
            _text(body.get("team_id")),
            event_type,
            self.replica_id,
            RECEIVED if answer else DONE,
            json.dumps(body) if answer else None,
        )
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((params, done))
        try:
            async with self._turn:
                if not done.done():  # not written by the turn before this one
                    await self._write_waiting(done)
        except asyncio.CancelledError:
            self._waiting = [(p, d) for p, d in self._waiting if d is not done]  # never recorded: never acked
            raise
        return done.result()

    async def _write_waiting(self, mine: asyncio.Future[bool]) -> None:
        """Record everything waiting in one transaction; each caller's future says whether its event was first."""
        batch, self._waiting = self._waiting, []
        try:
            async with self.db.transaction() as conn:
                firsts = [(await conn.execute(RECORD_SQL, params)).rowcount == 1 for params, _ in batch]
        except asyncio.CancelledError:  # rolled back: the others' events wait for the next turn; this one is dropped
            self._waiting = [(p, d) for p, d in batch if d is not mine] + self._waiting
            raise
        except Exception as exc:  # every event of the round stays unrecorded: each caller leaves it unacked
            for _, done in batch:
                done.set_exception(exc)
            return
        for (_, done), first in zip(batch, firsts, strict=True):
            done.set_result(first)

    async def posting(self, event_id: str) -> bool:
        """Take the event from 'received' to 'posting' right before its answer goes to Slack: True when this
        replica still owns it. False when another replica adopted it meanwhile (this one was slow, not dead):
        then this replica must not post. Once 'posting' it is never adopted; a replica killed between this and
        the post leaves it unanswered rather than answered twice (a window of one local step)."""
        result = await self.db.execute(
            "UPDATE slack_events SET status = 'posting' WHERE event_id = ? AND replica = ? AND status = 'received'",
            (event_id, self.replica_id),
        )
        return result.rowcount == 1

    async def finish(self, event_id: str) -> None:
        """The event was handled (its answer posted): nothing left to adopt."""
        await self.db.execute(
            f"UPDATE slack_events SET status = 'done', payload = NULL, finished_at = {NOW} WHERE event_id = ?",
            (event_id,),
        )

    async def adopt(self, dead_after_s: int, limit: int = 20) -> list[OpenEvent]:
        """Take over unanswered events of replicas not seen for `dead_after_s` seconds (or gone), oldest first.

        Each is handed to exactly one adopter: the rows are claimed by an UPDATE of locked rows, skipping rows
        another replica is claiming at the same moment.
        """
        cutoff = f"-{int(dead_after_s)} seconds"
        rows = await self._claim(cutoff, limit)
        return [OpenEvent(r["event_id"], r["event_type"], json.loads(r["payload"]), r["attempts"]) for r in rows]

    async def _claim(self, cutoff: str, limit: int) -> list[Any]:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE slack_events SET replica = ?, attempts = attempts + 1"
                " WHERE event_id IN (SELECT event_id FROM slack_events"
                "  WHERE status = 'received' AND replica <> ? AND attempts < 3"
                "  AND received_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)"
                "  AND replica NOT IN (SELECT id FROM replicas"
                "   WHERE seen_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?))"
                "  ORDER BY received_at LIMIT ? FOR UPDATE SKIP LOCKED)"
                " RETURNING event_id, event_type, payload, attempts",
                (self.replica_id, self.replica_id, cutoff, cutoff, limit),
            )
            return list(await cur.fetchall())

    async def open_count(self) -> int:
        row = await self.db.fetchone("SELECT COUNT(*) AS n FROM slack_events WHERE status = 'received'")
        return int(row["n"]) if row else 0

    async def prune(self, keep_hours: int = KEEP_HOURS) -> int:
        """Forget handled events older than Slack's retry window by far (a day by default)."""
        result = await self.db.execute(
            "DELETE FROM slack_events WHERE status = 'done' AND received_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)",
            (f"-{int(keep_hours)} hours",),
        )
        return result.rowcount


def _text(value: Any) -> str | None:
    """A field of Slack's payload as stored: text, or nothing when it is not text."""
    return value if isinstance(value, str) else None
