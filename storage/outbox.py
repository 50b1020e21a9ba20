"""OutboxStore: every Slack post and edit waiting to be sent (`slack_outbox`), and each channel's pace (`slack_pace`).

A row is written before sitrep answers for the work that made it, so a restart or another replica sends it. A
sender claims rows in one transaction (`claim`): the pending rows that are due, whose parent is posted, oldest edit
of a message first, highest priority first; the sender's policy (bot/pacing.py) picks among them what each
channel's allowance lets go now, and which pending top-level rows of one group go out as one message. A claim is a
lease: rows claimed longer ago than `lease_s` (their replica died mid-send), or by a process of this host that is
gone, are claimed again. `not_before` and the pace are epoch seconds (time.time()); rows keep `created_at` and
`sent_at` as UTC ISO text, as every table does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from storage.db import Database
from storage.run_lease import HOST, pid_alive
from storage.sql import NOW

PENDING, SENT, FAILED = "pending", "sent", "failed"
CANDIDATES = 200
KEEP_DAYS = 30  # sent and failed rows are kept this long (a report's or an answer's key, an edit's target)


@dataclass(frozen=True)
class OutboxRow:
    id: int
    method: str  # chat.postMessage | chat.update
    channel: str
    payload: dict[str, Any]
    parent_id: int | None  # a reply's thread parent, or the post an edit changes
    target_ts: str  # an edit of a message that was not posted through the outbox
    group_key: str
    line: str
    priority: int
    status: str
    ts: str
    merged_into: int | None
    error: str
    attempts: int
    claimed_by: str = ""
    claimed_at: float = 0.0
    parent_ts: str = ""  # the parent's ts once it is posted
    parent_grouped: bool = False  # the parent went out inside a grouped message (an edit changes its line)


@dataclass
class Choice:
    """What a sender takes from the candidates: (row id, ids merged into it) in sending order; the pace after
    them; when the first row left behind may go (None: nothing left behind for the pace)."""

    claims: list[tuple[int, list[int]]] = field(default_factory=list)
    pace: dict[str, float] = field(default_factory=dict)
    wake_at: float | None = None


Chooser = Callable[[list[OutboxRow], dict[str, float], float], Choice]


def _row(r: Any) -> OutboxRow:
    keys = r.keys()
    return OutboxRow(
        id=int(r["id"]),
        method=str(r["method"]),
        channel=str(r["channel"]),
        payload=json.loads(r["payload"] or "{}"),
        parent_id=int(r["parent_id"]) if r["parent_id"] is not None else None,
        target_ts=str(r["target_ts"]),
        group_key=str(r["group_key"]),
        line=str(r["line"]),
        priority=int(r["priority"]),
        status=str(r["status"]),
        ts=str(r["ts"]),
        merged_into=int(r["merged_into"]) if r["merged_into"] is not None else None,
        error=str(r["error"]),
        attempts=int(r["attempts"]),
        claimed_by=str(r["claimed_by"] or ""),
        claimed_at=float(r["claimed_at"] or 0.0),
        parent_ts=str(r["parent_ts"] or "") if "parent_ts" in keys else "",
        parent_grouped=bool(r["parent_grouped"]) if "parent_grouped" in keys else False,
    )


_CANDIDATES = f"""
SELECT o.*, p.ts AS parent_ts,
       (p.merged_into IS NOT NULL OR EXISTS (SELECT 1 FROM slack_outbox m WHERE m.merged_into = p.id)) AS parent_grouped
FROM slack_outbox o LEFT JOIN slack_outbox p ON p.id = o.parent_id
WHERE o.status = '{PENDING}' AND o.not_before <= ?
  AND (o.claimed_by IS NULL OR o.claimed_at < ? OR o.claimed_by LIKE ?)
  AND (o.parent_id IS NULL OR p.status = '{SENT}')
  AND NOT EXISTS (
      SELECT 1 FROM slack_outbox e
      WHERE o.method = 'chat.update' AND e.method = 'chat.update' AND e.status = '{PENDING}' AND e.id < o.id
        AND e.channel = o.channel AND COALESCE(e.parent_id, 0) = COALESCE(o.parent_id, 0)
        AND e.target_ts = o.target_ts)
ORDER BY o.priority DESC, o.id
LIMIT ?
"""


def _claimable(row: OutboxRow, owner: str, lease_cutoff: float) -> bool:
    """Unclaimed; or claimed before the lease cut-off (its sender died mid-send); or claimed by another process of
    this host that is gone. Never a row this process is sending."""
    if not row.claimed_by or row.claimed_at < lease_cutoff:
        return True
    if row.claimed_by == owner:
        return False
    host, _, rest = row.claimed_by.partition(":")
    pid = rest.partition(":")[0]
    return host == HOST and pid.isdigit() and not pid_alive(int(pid))


class OutboxStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def enqueue(
        self,
        method: str,
        channel: str,
        payload: dict[str, Any],
        *,
        key: str | None = None,
        parent_id: int | None = None,
        target_ts: str = "",
        group_key: str = "",
        line: str = "",
        priority: int = 0,
    ) -> int:
        """A new row (or, with `key`, the row already holding that key): its id."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO slack_outbox (idempotency_key, method, channel, payload, parent_id, target_ts, group_key,"
                " line, priority) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING"
                " RETURNING id",
                (key, method, channel, json.dumps(payload), parent_id, target_ts, group_key, line, priority),
            )
            row = await cur.fetchone()
            if row is None:
                cur = await conn.execute("SELECT id FROM slack_outbox WHERE idempotency_key = ?", (key,))
                row = await cur.fetchone()
        return int(row["id"])

    async def edit(
        self, channel: str, changes: dict[str, Any], *, parent_id: int | None, target_ts: str, line: str | None
    ) -> None:
        """An edit: folded into the post itself while it waits unclaimed, else into the edit of that message still
        waiting unclaimed, else a new chat.update row (sent after the post and after the edits before it)."""
        async with self.db.transaction() as conn:
            if parent_id is not None:
                cur = await conn.execute(
                    f"SELECT payload, line FROM slack_outbox WHERE id = ? AND status = '{PENDING}'"
                    " AND claimed_by IS NULL AND merged_into IS NULL",
                    (parent_id,),
                )
                post = await cur.fetchone()
                if post is not None:
                    payload = {**json.loads(post["payload"] or "{}"), **changes}
                    await conn.execute(
                        "UPDATE slack_outbox SET payload = ?, line = ? WHERE id = ?",
                        (json.dumps(payload), post["line"] if line is None else line, parent_id),
                    )
                    return
            cur = await conn.execute(
                f"SELECT id FROM slack_outbox WHERE method = 'chat.update' AND status = '{PENDING}'"
                " AND claimed_by IS NULL AND channel = ? AND COALESCE(parent_id, 0) = ? AND target_ts = ?"
                " ORDER BY id DESC LIMIT 1",
                (channel, parent_id or 0, target_ts),
            )
            waiting = await cur.fetchone()
            if waiting is not None:
                await conn.execute(
                    "UPDATE slack_outbox SET payload = ?, line = ? WHERE id = ?",
                    (json.dumps(changes), line or "", waiting["id"]),
                )
                return
            await conn.execute(
                "INSERT INTO slack_outbox (method, channel, payload, parent_id, target_ts, line, priority)"
                " VALUES ('chat.update', ?, ?, ?, ?, ?, 0)",
                (channel, json.dumps(changes), parent_id, target_ts, line or ""),
            )

    async def get(self, row_id: int) -> OutboxRow | None:
        row = await self.db.fetchone("SELECT * FROM slack_outbox WHERE id = ?", (row_id,))
        return _row(row) if row else None

    async def claim(
        self, owner: str, now: float, lease_s: float, choose: Chooser
    ) -> tuple[list[OutboxRow], float | None]:
        """Claim what `choose` picks among the due rows, in one transaction: (the rows claimed, each with its merged
        rows' lines in its payload under `group`; when to look again for what the pace held back)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                f"UPDATE slack_outbox SET status = '{FAILED}', error = 'parent_failed' WHERE status = '{PENDING}'"
                f" AND parent_id IN (SELECT id FROM slack_outbox WHERE status = '{FAILED}')"
            )
            await conn.execute(  # an edit of a post forgotten long ago (pruned): nothing left to edit
                f"UPDATE slack_outbox SET status = '{FAILED}', error = 'parent_gone' WHERE status = '{PENDING}'"
                " AND parent_id IS NOT NULL"
                " AND NOT EXISTS (SELECT 1 FROM slack_outbox p WHERE p.id = slack_outbox.parent_id)"
            )
            cur = await conn.execute(_CANDIDATES, (now, now - lease_s, f"{HOST}:%", CANDIDATES))
            rows = [_row(r) for r in await cur.fetchall()]
            rows = [r for r in rows if _claimable(r, owner, now - lease_s)]
            cur = await conn.execute("SELECT scope, tat FROM slack_pace WHERE tat > ?", (now,))
            pace = {str(r["scope"]): float(r["tat"]) for r in await cur.fetchall()}
            choice = choose(rows, pace, now)
            by_id = {r.id: r for r in rows}
            claimed: list[OutboxRow] = []
            for head, members in choice.claims:
                ids = [head, *members]
                marks = ",".join("?" * len(ids))
                await conn.execute(
                    f"UPDATE slack_outbox SET claimed_by = ?, claimed_at = ? WHERE id IN ({marks})", (owner, now, *ids)
                )
                if members:
                    await conn.execute(
                        f"UPDATE slack_outbox SET merged_into = ? WHERE id IN ({','.join('?' * len(members))})",
                        (head, *members),
                    )
                claimed.append(by_id[head])
            for scope, tat in choice.pace.items():
                await conn.execute(
                    "INSERT INTO slack_pace (scope, tat) VALUES (?, ?)"
                    " ON CONFLICT (scope) DO UPDATE SET tat = excluded.tat",
                    (scope, tat),
                )
        return claimed, choice.wake_at

    async def group(self, head_id: int) -> list[OutboxRow]:
        """A grouped message's rows: the one it was sent as, then the ones merged into it, in their order."""
        rows = await self.db.fetchall(
            "SELECT * FROM slack_outbox WHERE id = ? OR merged_into = ? ORDER BY priority DESC, id", (head_id, head_id)
        )
        return [_row(r) for r in rows]

    async def set_line(self, row_id: int, line: str) -> None:
        await self.db.execute("UPDATE slack_outbox SET line = ? WHERE id = ?", (line, row_id))

    async def absorb_edits(self, head_id: int, row: OutboxRow) -> list[int]:
        """Edit `row` of a grouped message, and with it every other unclaimed edit of a post in that message: their
        lines applied in order, those edits marked sent. The ids of the edits absorbed."""
        async with self.db.transaction() as conn:
            if row.line and row.parent_id is not None:
                await conn.execute("UPDATE slack_outbox SET line = ? WHERE id = ?", (row.line, row.parent_id))
            cur = await conn.execute(
                f"SELECT id, parent_id, line FROM slack_outbox WHERE method = 'chat.update' AND status = '{PENDING}'"
                " AND claimed_by IS NULL AND id <> ? AND parent_id IN"
                " (SELECT id FROM slack_outbox WHERE id = ? OR merged_into = ?) ORDER BY id",
                (row.id, head_id, head_id),
            )
            edits = await cur.fetchall()
            for edit in edits:
                if edit["line"]:
                    await conn.execute(
                        "UPDATE slack_outbox SET line = ? WHERE id = ?", (edit["line"], edit["parent_id"])
                    )
            ids = [int(e["id"]) for e in edits]
            if ids:
                marks = ",".join("?" * len(ids))
                await conn.execute(
                    f"UPDATE slack_outbox SET status = '{SENT}', sent_at = {NOW} WHERE id IN ({marks})", ids
                )
        return ids

    async def sent(self, ids: list[int], ts: str) -> None:
        marks = ",".join("?" * len(ids))
        await self.db.execute(
            f"UPDATE slack_outbox SET status = '{SENT}', ts = ?, claimed_by = NULL, error = '', sent_at = {NOW}"
            f" WHERE id IN ({marks})",
            (ts, *ids),
        )

    async def again(
        self, row_id: int, not_before: float, *, error: str, rate_limited: bool, pace: dict[str, float]
    ) -> None:
        """Back to pending (its merged rows too, to be grouped afresh), not before `not_before`; a rate limit is not
        an attempt. `pace`: scopes that may not send before a time (Retry-After)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE slack_outbox SET claimed_by = NULL, merged_into = NULL, not_before = ? WHERE merged_into = ?",
                (not_before, row_id),
            )
            await conn.execute(
                "UPDATE slack_outbox SET claimed_by = NULL, not_before = ?, error = ?,"
                " attempts = attempts + ?, rate_limited = rate_limited + ? WHERE id = ?",
                (not_before, error, 0 if rate_limited else 1, 1 if rate_limited else 0, row_id),
            )
            for scope, tat in pace.items():
                await conn.execute(
                    "INSERT INTO slack_pace (scope, tat) VALUES (?, ?)"
                    " ON CONFLICT (scope) DO UPDATE SET tat = excluded.tat WHERE slack_pace.tat < excluded.tat",
                    (scope, tat),
                )

    async def release(self, ids: list[int]) -> None:
        """Give back rows claimed but not sent (and the rows merged into them): claimable again at once."""
        if not ids:
            return
        marks = ",".join("?" * len(ids))
        async with self.db.transaction() as conn:
            await conn.execute(
                f"UPDATE slack_outbox SET claimed_by = NULL, merged_into = NULL WHERE merged_into IN ({marks})", ids
            )
            await conn.execute(f"UPDATE slack_outbox SET claimed_by = NULL WHERE id IN ({marks})", ids)

    async def fail(self, row_id: int, error: str) -> None:
        """Slack refused it for good: the row and the rows merged into it."""
        await self.db.execute(
            f"UPDATE slack_outbox SET status = '{FAILED}', claimed_by = NULL, error = ?"
            " WHERE id = ? OR merged_into = ?",
            (error[:500], row_id, row_id),
        )

    async def next_due(self) -> float | None:
        """When the earliest pending row becomes due (epoch seconds), or None when nothing is pending."""
        row = await self.db.fetchone(f"SELECT MIN(not_before) AS due FROM slack_outbox WHERE status = '{PENDING}'")
        return float(row["due"]) if row and row["due"] is not None else None

    async def counts(self) -> dict[str, int]:
        """How many rows are pending, sent and failed; and how many 429s the sends met (`rate_limited`)."""
        rows = await self.db.fetchall("SELECT status, COUNT(*) AS n FROM slack_outbox GROUP BY status")
        out = {str(r["status"]): int(r["n"]) for r in rows}
        limited = await self.db.fetchone("SELECT COALESCE(SUM(rate_limited), 0) AS n FROM slack_outbox")
        out["rate_limited"] = int(limited["n"]) if limited else 0
        return out

    async def prune(self, now: float, days: int = KEEP_DAYS) -> int:
        """Forget rows sent or failed more than `days` ago, except the posts an alert still open edits (its post and
        its reply), and paces long past. How many rows went."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                f"DELETE FROM slack_outbox WHERE status <> '{PENDING}'"
                " AND created_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)"
                " AND id NOT IN (SELECT post_id FROM alert_investigations"
                "  WHERE resolved_at IS NULL AND post_id IS NOT NULL)"
                " AND id NOT IN (SELECT reply_id FROM alert_investigations"
                "  WHERE resolved_at IS NULL AND reply_id IS NOT NULL)",
                (f"-{days} days",),
            )
            gone = cur.rowcount
            await conn.execute("DELETE FROM slack_pace WHERE tat < ?", (now - 3600,))
        return gone
