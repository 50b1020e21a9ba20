"""Audit log: who changed what, when. Secret values never reach it; callers pass masked values."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from storage.db import Database


def mask(secret: str) -> str:
    """How a stored secret is shown anywhere: that it is set, and its last four characters at most."""
    if not secret:
        return "not set"
    tail = secret[-4:] if len(secret) >= 12 else ""
    return f"set, ends in …{tail}" if tail else "set"


@dataclass(frozen=True)
class AuditEntry:
    at: str
    team_id: str | None
    actor: str
    action: str
    detail: dict[str, Any]


class AuditLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, conn: Any, team_id: str | None, actor: str, action: str, detail: dict) -> None:
        """Record inside the caller's transaction (`conn` from `Database.transaction()`)."""
        await conn.execute(
            "INSERT INTO audit_log (team_id, actor, action, detail) VALUES (?, ?, ?, ?)",
            (team_id, actor, action, json.dumps(detail, sort_keys=True)),
        )

    async def recent(self, team_id: str | None = None, limit: int = 50) -> list[AuditEntry]:
        if team_id is None:
            rows = await self.db.fetchall("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = await self.db.fetchall(
                "SELECT * FROM audit_log WHERE team_id = ? ORDER BY id DESC LIMIT ?", (team_id, limit)
            )
        return [AuditEntry(r["at"], r["team_id"], r["actor"], r["action"], json.loads(r["detail"])) for r in rows]
