"""Replicas sharing one database: each running sitrep writes a heartbeat row, so any of them can count the others
and tell when one died (its events are then adopted: storage/events.py)."""

from __future__ import annotations

import os
import socket
import uuid

from storage.db import Database
from storage.sql import NOW

ALIVE_S = 60  # a replica seen within this many seconds counts as running (the readiness table's "last minute")
DEAD_BEATS = 3  # a replica silent for this many heartbeats (SITREP_HEARTBEAT_SECONDS, 10 s) is taken for dead


def new_replica_id() -> str:
    """host:pid:random, unique per process start."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class ReplicaRegistry:
    def __init__(self, db: Database, replica_id: str | None = None) -> None:
        self.db = db
        self.id = replica_id or new_replica_id()

    async def beat(self) -> None:
        """Say this replica is alive now (the first beat registers it)."""
        host, pid = socket.gethostname(), os.getpid()
        await self.db.execute(
            f"INSERT INTO replicas (id, host, pid) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET seen_at = {NOW}",
            (self.id, host, pid),
        )

    async def live(self, within_s: int = ALIVE_S) -> int:
        """How many replicas wrote a heartbeat in the last `within_s` seconds."""
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM replicas WHERE seen_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)",
            (f"-{int(within_s)} seconds",),
        )
        return int(row["n"]) if row else 0

    async def leave(self) -> None:
        """A clean stop: the row goes, so nobody waits for this replica to be declared dead."""
        await self.db.execute("DELETE FROM replicas WHERE id = ?", (self.id,))

    async def forget_stale(self, older_than_s: int = 24 * 3600) -> int:
        result = await self.db.execute(
            "DELETE FROM replicas WHERE seen_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)",
            (f"-{int(older_than_s)} seconds",),
        )
        return result.rowcount
