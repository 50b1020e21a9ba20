"""RememberedStore: values an integration looked up and keeps across restarts (table `remembered`), by team and name.

What is kept is a lookup worth not repeating in front of a process's first report (the Grafana discovery); it is
served as stale and refreshed behind (skills/cache.py), so a value that is wrong now costs one retry, not an outage.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from storage.changes import parse
from storage.db import NOW, Database

MAX_BYTES = 64 * 1024  # a value larger than this is not kept (it is looked up again after a restart)


class RememberedStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def recall(self, team_id: str, name: str) -> tuple[Any, float] | None:
        """(value, age in seconds), or None when nothing is kept under that name."""
        row = await self.db.fetchone(
            "SELECT value, found_at FROM remembered WHERE team_id = ? AND name = ?", (team_id, name)
        )
        if row is None:
            return None
        age = (datetime.now(UTC) - parse(row["found_at"])).total_seconds()
        return json.loads(row["value"]), max(0.0, age)

    async def keep(self, team_id: str, name: str, value: Any) -> None:
        text = json.dumps(value, separators=(",", ":"), sort_keys=True)
        if len(text.encode()) > MAX_BYTES:
            return
        await self.db.execute(
            "INSERT INTO remembered (team_id, name, value) VALUES (?, ?, ?) ON CONFLICT (team_id, name)"
            f" DO UPDATE SET value = excluded.value, found_at = {NOW}",
            (team_id, name, text),
        )
