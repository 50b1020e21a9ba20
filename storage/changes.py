"""ChangeStore: the one `changes` table of what changed, whatever recorded it: commits pushed to routed repos'
default branches (source "github") and Vercel deployments seen in the log drain (source "vercel").

Grafana annotations are the third kind of change; they stay in Grafana and are read live (skills/changes/recent.py
merges them in), so the same `Change` type carries all three.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from storage.db import Database
from storage.times import iso, parse

GITHUB, VERCEL, GRAFANA = "github", "vercel", "grafana"
TITLE_MAX = 500


@dataclass(frozen=True)
class Change:
    """One change: where it comes from (source, kind), what it changed (subject: a repo, a Vercel project, a
    dashboard), its id there (ref: a commit sha, a deployment id, an annotation id), when (UTC), and its link."""

    source: str
    subject: str
    ref: str
    kind: str  # push | deploy | annotation
    at: datetime
    title: str = ""
    author: str = ""
    branch: str = ""
    environment: str = ""
    url: str | None = None
    via: str = ""  # how it was recorded: webhook, poll, drain, api

    @property
    def short_ref(self) -> str:
        return self.ref[:7] if self.source == GITHUB else self.ref

    def to_dict(self) -> dict[str, Any]:
        """The change as a tool result row (time as UTC ISO text)."""
        out = {
            "source": self.source,
            "kind": self.kind,
            "subject": self.subject,
            "ref": self.short_ref,
            "title": self.title,
            "author": self.author,
            "time": iso(self.at),
            "url": self.url,
        }
        if self.environment:
            out["environment"] = self.environment
        return out

    @classmethod
    def from_dict(cls, row: object) -> Change | None:
        """A tool result row (`to_dict`) read back; None when it has no readable time. The ref is the short one."""
        if not isinstance(row, dict) or not isinstance(row.get("time"), str):
            return None
        try:
            at = parse(row["time"])
        except ValueError:
            return None
        return cls(
            source=str(row.get("source") or ""),
            subject=str(row.get("subject") or ""),
            ref=str(row.get("ref") or ""),
            kind=str(row.get("kind") or "change"),
            at=at,
            title=str(row.get("title") or ""),
            author=str(row.get("author") or ""),
            environment=str(row.get("environment") or ""),
            url=row["url"] if isinstance(row.get("url"), str) else None,
        )


def pushed_commit(
    repo: str, sha: str, branch: str, author: str, message: str, committed_at: str, url: str | None, via: str
) -> Change:
    """A commit pushed to a repo's branch, as GitHub reports it (a push event's commit or a commits-list row). Its
    timestamp carries the committer's offset (-08:00); one GitHub would not send is recorded at the current time."""
    try:
        at = parse(committed_at)
    except ValueError:
        at = datetime.now(UTC)
    return Change(GITHUB, repo, sha, "push", at, message, author, branch, url=url, via=via)


class ChangeStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, changes: Sequence[Change]) -> int:
        """Store changes once per (source, subject, ref); how many were new. A change seen again with an earlier
        time keeps the earlier one, and gains a link or title it lacked (a deployment's build line after its
        first request line)."""
        new = 0
        async with self.db.transaction() as conn:
            for c in changes:
                cur = await conn.execute(
                    "INSERT INTO changes (source, subject, ref, kind, title, author, branch, environment, at, url, via)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (c.source, _subject(c), c.ref, c.kind, c.title[:TITLE_MAX], c.author, c.branch, c.environment,
                     iso(c.at), c.url, c.via),
                )  # fmt: skip
                if cur.rowcount == 1:
                    new += 1
                    continue
                await conn.execute(
                    "UPDATE changes SET at = CASE WHEN ? < at THEN ? ELSE at END, url = COALESCE(url, ?),"
                    " title = CASE WHEN title = '' THEN ? ELSE title END"
                    " WHERE source = ? AND subject = ? AND ref = ?",
                    (iso(c.at), iso(c.at), c.url, c.title[:TITLE_MAX], c.source, _subject(c), c.ref),
                )
        return new

    async def between(
        self,
        start: datetime,
        end: datetime,
        *,
        repos: Sequence[str] = (),
        sources: Sequence[str] = (GITHUB, VERCEL),
        limit: int = 50,
    ) -> list[Change]:
        """Changes in [start, end], newest first: GitHub pushes to `repos` only, every Vercel deployment (one drain
        per sitrep), each source asked for."""
        where, params = [], []
        if GITHUB in sources and repos:
            marks = ",".join("?" for _ in repos)
            where.append(f"(source = 'github' AND subject IN ({marks}))")
            params += [r.lower() for r in repos]
        if VERCEL in sources:
            where.append("source = 'vercel'")
        if not where:
            return []
        rows = await self.db.fetchall(
            f"SELECT * FROM changes WHERE ({' OR '.join(where)}) AND at >= ? AND at <= ? ORDER BY at DESC LIMIT ?",
            (*params, iso(start), iso(end), limit),
        )
        return [_change(r) for r in rows]


def _subject(change: Change) -> str:
    return change.subject.lower() if change.source == GITHUB else change.subject


def _change(row: Any) -> Change:
    return Change(
        source=row["source"],
        subject=row["subject"],
        ref=row["ref"],
        kind=row["kind"],
        at=parse(row["at"]),
        title=row["title"],
        author=row["author"],
        branch=row["branch"],
        environment=row["environment"],
        url=row["url"],
        via=row["via"],
    )
