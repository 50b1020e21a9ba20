"""The drain relay's tables: the inbox (each request the drain answered 200 for, until Loki has its lines), the spill
table (Loki push bodies waiting for Loki, bounded, oldest dropped first) and the relay's status.

An inbox row is held by the relay that wrote or took it (`owner`, renewed by `beat`); a row whose owner is gone
(storage/run_lease.py's `owner_gone`: its pid on this host, or a heartbeat older than INBOX_LEASE_S) or that was
released at a clean stop is taken by the next relay that looks (`take_orphan`), so a crash, a restart or a dead
replica never loses a line that was answered 200.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage import run_lease
from storage.db import NOW, Database

CLAIM_LEASE_S = 60  # a batch claimed longer ago than this (its replica died mid-push) may be claimed again
INBOX_LEASE_S = 60.0  # an inbox row whose owner has not renewed it for this long is taken by another relay


@dataclass(frozen=True)
class Spilled:
    id: int
    lines: int
    body: bytes


@dataclass(frozen=True)
class Inboxed:
    """An accepted drain request: its inbox row, its line count and its body as received."""

    id: int
    lines: int
    body: bytes


def _marks(ids: Sequence[int]) -> str:
    return ", ".join("?" for _ in ids)


class DrainStore:
    def __init__(self, db: Database, owner: str | None = None) -> None:
        self.db = db
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    # -- the inbox ----------------------------------------------------------------------------------------

    async def journal(self, requests: Sequence[tuple[bytes, int]]) -> list[int]:
        """Store accepted requests (body, lines) in one transaction, held by this store's owner: their row ids."""
        ids: list[int] = []
        async with self.db.transaction() as conn:
            for body, lines in requests:
                cur = await conn.execute(
                    f"INSERT INTO drain_inbox (owner, beat_at, lines, body) VALUES (?, {NOW}, ?, ?)",
                    (self.owner, lines, body),
                )
                assert cur.lastrowid is not None
                ids.append(int(cur.lastrowid))
        return ids

    async def settle(self, ids: Sequence[int]) -> None:
        """Every line of these rows is in Loki (or refused by it, or spilled): they go."""
        if ids:
            async with self.db.transaction() as conn:
                await conn.execute(f"DELETE FROM drain_inbox WHERE id IN ({_marks(ids)})", tuple(ids))

    async def beat(self) -> None:
        """This relay still holds its rows."""
        await self.db.execute(f"UPDATE drain_inbox SET beat_at = {NOW} WHERE owner = ?", (self.owner,))

    async def release(self) -> None:
        """A clean stop: this relay's rows are anyone's at once (nobody waits for the lease)."""
        await self.db.execute("UPDATE drain_inbox SET owner = NULL WHERE owner = ?", (self.owner,))

    async def release_rows(self, ids: Sequence[int]) -> None:
        """These rows are anyone's (stored, never queued here)."""
        if ids:
            await self.db.execute(
                f"UPDATE drain_inbox SET owner = NULL WHERE owner = ? AND id IN ({_marks(ids)})", (self.owner, *ids)
            )

    async def take_orphan(self, max_lines: int) -> Inboxed | None:
        """Take the oldest row of at most `max_lines` lines whose holder is gone or released it; None when there is
        none."""
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT owner, MAX(beat_at) AS beat_at FROM drain_inbox GROUP BY owner") as cur:
                holders = await cur.fetchall()
            gone = [
                h["owner"]
                for h in holders
                if h["owner"] is not None
                and run_lease.owner_gone(h["owner"], h["beat_at"], me=self.owner, lease_s=INBOX_LEASE_S)
            ]
            owners = f"owner IS NULL OR owner IN ({_marks(gone)})" if gone else "owner IS NULL"
            async with conn.execute(
                f"SELECT id, lines, body FROM drain_inbox WHERE ({owners}) AND lines <= ? ORDER BY id LIMIT 1",
                (*gone, max_lines),
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                return None
            await conn.execute(
                f"UPDATE drain_inbox SET owner = ?, beat_at = {NOW} WHERE id = ?", (self.owner, row["id"])
            )
        return Inboxed(row["id"], row["lines"], bytes(row["body"]))

    async def inbox(self) -> tuple[int, int]:
        """(requests, lines) accepted and not yet in Loki, refused or spilled."""
        row = await self.db.fetchone("SELECT COUNT(*) AS n, COALESCE(SUM(lines), 0) AS lines FROM drain_inbox")
        return (row["n"], row["lines"]) if row else (0, 0)

    # -- the spill table ----------------------------------------------------------------------------------

    async def spill(self, body: bytes, lines: int, *, max_bytes: int, settled: Sequence[int] = ()) -> tuple[int, int]:
        """Keep one push body; drop the oldest bodies while the table holds more than `max_bytes`. The inbox rows
        `settled` (every line of them is in this body or settled before) go in the same transaction.

        Returns (batches dropped, lines dropped). A body larger than `max_bytes` on its own is dropped itself.
        """
        if len(body) > max_bytes:
            await self.settle(settled)
            return 1, lines
        dropped_batches = dropped_lines = 0
        async with self.db.transaction() as conn:
            if settled:
                await conn.execute(f"DELETE FROM drain_inbox WHERE id IN ({_marks(settled)})", tuple(settled))
            await conn.execute(
                "INSERT INTO drain_spill (lines, bytes, body) VALUES (?, ?, ?)", (lines, len(body), body)
            )
            async with conn.execute("SELECT COALESCE(SUM(bytes), 0) FROM drain_spill") as cur:
                row = await cur.fetchone()
            total = int(row[0]) if row else 0
            while total > max_bytes:
                async with conn.execute("SELECT id, lines, bytes FROM drain_spill ORDER BY id LIMIT 1") as cur:
                    oldest = await cur.fetchone()
                if oldest is None:
                    break
                await conn.execute("DELETE FROM drain_spill WHERE id = ?", (oldest["id"],))
                total -= oldest["bytes"]
                dropped_batches += 1
                dropped_lines += oldest["lines"]
        return dropped_batches, dropped_lines

    async def oldest(self) -> Spilled | None:
        """Claim the oldest batch no other replica is pushing (one claimed by this store again, or one whose claim
        outlived CLAIM_LEASE_S); None when there is none. Rows are taken FOR UPDATE SKIP LOCKED, so replicas
        draining the table at once each get a different batch: each batch is pushed once."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                f"UPDATE drain_spill SET claimed_by = ?, claimed_at = {NOW} WHERE id IN ("
                " SELECT id FROM drain_spill WHERE claimed_by IS NULL OR claimed_by = ?"
                " OR claimed_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)"
                " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id, lines, body",
                (self.owner, self.owner, f"-{CLAIM_LEASE_S} seconds"),
            )
            row = await cur.fetchone()
        return None if row is None else Spilled(row["id"], row["lines"], bytes(row["body"]))

    async def remove(self, spilled_id: int) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM drain_spill WHERE id = ?", (spilled_id,))

    async def backlog(self) -> tuple[int, int, int]:
        """(batches, lines, bytes) waiting in the spill table."""
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS n, COALESCE(SUM(lines), 0) AS lines, COALESCE(SUM(bytes), 0) AS bytes FROM drain_spill"
        )
        return (row["n"], row["lines"], row["bytes"]) if row else (0, 0, 0)

    async def save_status(self, document: dict[str, Any]) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO drain_status (id, document) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET"
                " document = excluded.document, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')",
                (json.dumps(document),),
            )

    async def load_status(self) -> dict[str, Any]:
        row = await self.db.fetchone("SELECT document FROM drain_status WHERE id = 1")
        if row is None:
            return {}
        try:
            document = json.loads(row["document"])
        except ValueError:
            return {}
        return document if isinstance(document, dict) else {}
