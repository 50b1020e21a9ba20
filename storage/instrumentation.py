"""The pull requests sitrep opened to instrument a repository with Amplitude's tracking plan (one per team and
repository; a second run updates the same one), audited; the latest is what the Amplitude readiness row names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.audit import AuditLog
from storage.db import Database

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"


@dataclass(frozen=True)
class InstrumentationPR:
    team_id: str
    repo: str
    number: int
    url: str
    branch: str
    commit_sha: str
    points: int
    opened_by: str
    opened_at: str
    updated_at: str

    @property
    def label(self) -> str:
        return f"{self.repo}#{self.number}"


class InstrumentationStore:
    def __init__(self, db: Database, audit: AuditLog | None = None) -> None:
        self.db = db
        self.audit = audit

    async def record(
        self, team_id: str, repo: str, number: int, url: str, branch: str, commit_sha: str, points: int, actor: str
    ) -> InstrumentationPR:
        """Record (or update, on a later run) the pull request of `repo`; audited as amplitude.instrument."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO amplitude_instrumentation (team_id, repo, number, url, branch, commit_sha, points,"
                " opened_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (team_id, repo) DO UPDATE SET"
                " number = excluded.number, url = excluded.url, branch = excluded.branch,"
                f" commit_sha = excluded.commit_sha, points = excluded.points, updated_at = {_NOW},"
                " opened_at = CASE WHEN amplitude_instrumentation.number = excluded.number"
                " THEN amplitude_instrumentation.opened_at ELSE excluded.opened_at END",
                (team_id, repo, number, url, branch, commit_sha, points, actor),
            )
            if self.audit is not None:
                detail = {"repo": repo, "pull_request": number, "commit": commit_sha, "points": points}
                await self.audit.record(conn, team_id, actor, "amplitude.instrument", detail)
        found = await self.get(team_id, repo)
        assert found is not None
        return found

    async def get(self, team_id: str, repo: str) -> InstrumentationPR | None:
        row = await self.db.fetchone(
            "SELECT * FROM amplitude_instrumentation WHERE team_id = ? AND repo = ?", (team_id, repo)
        )
        return _pr(row) if row is not None else None

    async def latest(self, team_id: str) -> InstrumentationPR | None:
        row = await self.db.fetchone(
            "SELECT * FROM amplitude_instrumentation WHERE team_id = ? ORDER BY updated_at DESC, repo LIMIT 1",
            (team_id,),
        )
        return _pr(row) if row is not None else None


def _pr(r: Any) -> InstrumentationPR:
    return InstrumentationPR(
        r["team_id"],
        r["repo"],
        int(r["number"]),
        r["url"],
        r["branch"],
        r["commit_sha"],
        int(r["points"]),
        r["opened_by"],
        r["opened_at"],
        r["updated_at"],
    )
