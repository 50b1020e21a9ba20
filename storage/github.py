"""GitHub state: the installation link, the review ledger, reviews a rate limit deferred, webhook deliveries, poll
state, changes, setup states.

The ledger's claim is an INSERT against UNIQUE (repo, number, head_sha, forced_by): whoever inserts reviews,
everyone else backs off, across connections and processes (the pattern of storage/jobs.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.audit import AuditLog
from storage.changes import ChangeStore
from storage.db import Database
from storage.times import iso

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"
MAX_ATTEMPTS = 3
STALE_MINUTES = 30
DELIVERY_DAYS = 14


@dataclass(frozen=True)
class InstallationLink:
    team_id: str
    installation_id: int
    account: str
    linked_by: str
    linked_at: str


@dataclass(frozen=True)
class ReviewRow:
    id: int
    repo: str
    number: int
    head_sha: str
    status: str
    review_url: str | None
    claimed_at: str
    finished_at: str | None
    error: str | None
    source: str


@dataclass(frozen=True)
class DeferredReview:
    """A review GitHub's rate limit put off: it runs again once `not_before` (ISO, UTC) has passed."""

    team_id: str
    repo: str
    number: int
    head_sha: str
    forced_by: str
    installation_id: int | None
    source: str
    not_before: str
    reason: str = ""
    deferrals: int = 1


class GitHubStore:
    def __init__(self, db: Database, audit: AuditLog | None = None, changes: ChangeStore | None = None) -> None:
        self.db = db
        self.audit = audit
        self.changes_table = changes or ChangeStore(db)  # the one changes table (storage/changes.py)

    # -- installation link ---------------------------------------------------------------------------------

    async def link(self, team_id: str, installation_id: int, account: str, actor: str) -> InstallationLink:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO github_installations (team_id, installation_id, account, linked_by) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (team_id) DO UPDATE SET installation_id = excluded.installation_id,"
                f" account = excluded.account, linked_by = excluded.linked_by, linked_at = {_NOW}, suspended = 0",
                (team_id, installation_id, account, actor),
            )
            if self.audit is not None:
                detail = {"installation_id": installation_id, "account": account}
                await self.audit.record(conn, team_id, actor, "github.link", detail)
        link = await self.installation(team_id)
        assert link is not None
        return link

    async def unlink_installation(self, installation_id: int, actor: str) -> int:
        """Forget an installation (deleted on GitHub) for every team that linked it; how many links went."""
        async with self.db.transaction() as conn:
            cur = await conn.execute("DELETE FROM github_installations WHERE installation_id = ?", (installation_id,))
            if self.audit is not None and cur.rowcount:
                await self.audit.record(conn, None, actor, "github.unlink", {"installation_id": installation_id})
            return cur.rowcount

    async def set_suspended(self, installation_id: int, suspended: bool) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE github_installations SET suspended = ? WHERE installation_id = ?",
                (int(suspended), installation_id),
            )

    async def installation(self, team_id: str) -> InstallationLink | None:
        row = await self.db.fetchone(
            "SELECT * FROM github_installations WHERE team_id = ? AND suspended = 0", (team_id,)
        )
        if row is None:
            return None
        return InstallationLink(
            row["team_id"], row["installation_id"], row["account"], row["linked_by"], row["linked_at"]
        )

    async def teams_of_installation(self, installation_id: int) -> list[str]:
        rows = await self.db.fetchall(
            "SELECT team_id FROM github_installations WHERE installation_id = ?", (installation_id,)
        )
        return [r["team_id"] for r in rows]

    # -- review ledger -------------------------------------------------------------------------------------

    async def claim_review(
        self, team_id: str, repo: str, number: int, head_sha: str, source: str, forced_by: str = ""
    ) -> int | None:
        """The ledger row id to review under, or None when this head (with this forced_by) is taken.

        A head whose review failed, or whose reviewer died (running for STALE_MINUTES), is claimed again, up to
        MAX_ATTEMPTS in all; the conflict rule decides, so this holds across processes.
        """
        key = (repo.lower(), number, head_sha, forced_by)
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO github_reviews (team_id, repo, number, head_sha, forced_by, source, status)"
                " VALUES (?, ?, ?, ?, ?, ?, 'running')"
                " ON CONFLICT (repo, number, head_sha, forced_by) DO UPDATE SET status = 'running',"
                f" attempts = github_reviews.attempts + 1, claimed_at = {_NOW}, error = NULL, source = excluded.source"
                " WHERE github_reviews.attempts < ? AND (github_reviews.status = 'failed' OR"
                " (github_reviews.status = 'running' AND github_reviews.claimed_at < ?))",
                (team_id, *key, source, MAX_ATTEMPTS, iso(datetime.now(UTC) - timedelta(minutes=STALE_MINUTES))),
            )
            if cur.rowcount != 1:
                return None
            async with conn.execute(
                "SELECT id FROM github_reviews WHERE repo = ? AND number = ? AND head_sha = ? AND forced_by = ?", key
            ) as c:
                row = await c.fetchone()
            return int(row["id"]) if row else None

    async def finish_review(
        self,
        review_id: int,
        status: str,
        *,
        review_url: str | None = None,
        inline_comments: int = 0,
        planner: str | None = None,
        tokens_in: int = 0,
        error: str | None = None,
    ) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                f"UPDATE github_reviews SET status = ?, review_url = ?, inline_comments = ?, planner = ?,"
                f" tokens_in = ?, error = ?, finished_at = {_NOW} WHERE id = ?",
                (status, review_url, inline_comments, planner, tokens_in, error, review_id),
            )

    async def reviews(self, repo: str | None = None, limit: int = 50) -> list[ReviewRow]:
        where, params = ("WHERE repo = ?", (repo.lower(), limit)) if repo else ("", (limit,))
        rows = await self.db.fetchall(f"SELECT * FROM github_reviews {where} ORDER BY id DESC LIMIT ?", params)
        return [_review(r) for r in rows]

    async def activity(self, team_id: str, days: int = 7) -> tuple[ReviewRow | None, int]:
        """The last posted review of the team, and how many were posted in the last `days` days."""
        since = iso(datetime.now(UTC) - timedelta(days=days))
        last = await self.db.fetchone(
            "SELECT * FROM github_reviews WHERE team_id = ? AND status = 'posted' AND source != 'coding-commit'"
            " ORDER BY id DESC LIMIT 1",
            (team_id,),
        )
        count = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM github_reviews WHERE team_id = ? AND status = 'posted' AND claimed_at >= ?"
            " AND source != 'coding-commit'",
            (team_id, since),
        )
        return (_review(last) if last else None), int(count["n"] if count else 0)

    # -- reviews deferred by a rate limit --------------------------------------------------------------------

    async def defer_review(self, d: DeferredReview) -> int:
        """Put a review off until `d.not_before`; how many times it has been put off. The ledger attempt its
        refused try took is given back: a rate limit is not a failure of the review."""
        key = (d.repo.lower(), d.number, d.head_sha, d.forced_by)
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO github_deferred_reviews (team_id, repo, number, head_sha, forced_by, installation_id,"
                " source, not_before, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (team_id, repo, number, head_sha, forced_by) DO UPDATE SET"
                " not_before = excluded.not_before, reason = excluded.reason,"
                " deferrals = github_deferred_reviews.deferrals + 1",
                (d.team_id, *key, d.installation_id, d.source, d.not_before, d.reason),
            )
            await conn.execute(
                "UPDATE github_reviews SET attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END"
                " WHERE repo = ? AND number = ? AND head_sha = ? AND forced_by = ? AND status = 'failed'",
                key,
            )
            async with conn.execute(
                "SELECT deferrals FROM github_deferred_reviews"
                " WHERE team_id = ? AND repo = ? AND number = ? AND head_sha = ? AND forced_by = ?",
                (d.team_id, *key),
            ) as c:
                row = await c.fetchone()
        return int(row["deferrals"]) if row else 1

    async def deferred_reviews(
        self, *, team_id: str | None = None, due_by: datetime | None = None
    ) -> list[DeferredReview]:
        """Deferred reviews (of a team; or those due by `due_by`), the earliest first."""
        where, params = [], []
        if team_id is not None:
            where.append("team_id = ?")
            params.append(team_id)
        if due_by is not None:
            where.append("not_before <= ?")
            params.append(iso(due_by))
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = await self.db.fetchall(
            f"SELECT * FROM github_deferred_reviews {clause} ORDER BY not_before, number LIMIT 200", tuple(params)
        )
        return [DeferredReview(**{f: r[f] for f in DeferredReview.__dataclass_fields__}) for r in rows]

    async def drop_deferred(self, d: DeferredReview) -> None:
        """The deferred review ran (or was given up): it leaves the table."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "DELETE FROM github_deferred_reviews"
                " WHERE team_id = ? AND repo = ? AND number = ? AND head_sha = ? AND forced_by = ? AND not_before = ?",
                (d.team_id, d.repo.lower(), d.number, d.head_sha, d.forced_by, d.not_before),
            )

    # -- deliveries, polling, changes ----------------------------------------------------------------------

    async def first_delivery(self, delivery_id: str, event: str) -> bool:
        """True the first time a delivery id is seen; False for a redelivery."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO github_deliveries (delivery_id, event) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (delivery_id, event),
            )
            new = cur.rowcount == 1
            # GitHub redelivers within days, not weeks: older ids need not be kept
            await conn.execute(
                "DELETE FROM github_deliveries WHERE received_at < ?",
                (iso(datetime.now(UTC) - timedelta(days=DELIVERY_DAYS)),),
            )
            return new

    async def poll_state(self, repo: str) -> tuple[str | None, str | None]:
        row = await self.db.fetchone("SELECT * FROM github_poll_state WHERE repo = ?", (repo.lower(),))
        return (row["pulls_etag"], row["last_commit_at"]) if row else (None, None)

    async def save_poll_state(self, repo: str, *, etag: str | None = None, last_commit_at: str | None = None) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO github_poll_state (repo, pulls_etag, last_commit_at, polled_at) VALUES (?, ?, ?, "
                f"{_NOW}) ON CONFLICT (repo) DO UPDATE SET"
                " pulls_etag = COALESCE(excluded.pulls_etag, github_poll_state.pulls_etag),"
                " last_commit_at = COALESCE(excluded.last_commit_at, github_poll_state.last_commit_at),"
                " polled_at = excluded.polled_at",
                (repo.lower(), etag, last_commit_at),
            )

    # -- install-link states -------------------------------------------------------------------------------

    async def save_state(self, nonce: str, team_id: str, slack_user: str, expires_at: datetime) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO github_setup_states (nonce, team_id, slack_user, expires_at) VALUES (?, ?, ?, ?)",
                (nonce, team_id, slack_user, iso(expires_at)),
            )
            await conn.execute(
                "DELETE FROM github_setup_states WHERE expires_at < ?", (iso(datetime.now(UTC) - timedelta(days=1)),)
            )

    async def use_state(self, nonce: str) -> tuple[str, str] | None:
        """(team_id, slack_user) the first time an unexpired state is used; None when unknown, used or expired."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                f"UPDATE github_setup_states SET used_at = {_NOW}"
                " WHERE nonce = ? AND used_at IS NULL AND expires_at > ?",
                (nonce, iso(datetime.now(UTC))),
            )
            if cur.rowcount != 1:
                return None
            async with conn.execute(
                "SELECT team_id, slack_user FROM github_setup_states WHERE nonce = ?", (nonce,)
            ) as c:
                row = await c.fetchone()
        return (row["team_id"], row["slack_user"]) if row else None


def _review(row: Any) -> ReviewRow:
    return ReviewRow(
        row["id"],
        row["repo"],
        row["number"],
        row["head_sha"],
        row["status"],
        row["review_url"],
        row["claimed_at"],
        row["finished_at"],
        row["error"],
        row["source"],
    )
