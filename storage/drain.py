"""The drain relay's spill table (Loki push bodies waiting for Loki, bounded, oldest dropped first) and its status."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from storage.db import Database


@dataclass(frozen=True)
class Spilled:
    id: int
    lines: int
    body: bytes


class DrainStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def spill(self, body: bytes, lines: int, *, max_bytes: int) -> tuple[int, int]:
        """Keep one push body; drop the oldest bodies while the table holds more than `max_bytes`.

        Returns (batches dropped, lines dropped). A body larger than `max_bytes` on its own is dropped itself.
        """
        if len(body) > max_bytes:
            return 1, lines
        dropped_batches = dropped_lines = 0
        async with self.db.transaction() as conn:
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
        row = await self.db.fetchone("SELECT id, lines, body FROM drain_spill ORDER BY id LIMIT 1")
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
