"""Polling without a public URL: every polled request conditional (a 304 costs no rate limit), a new head reviewed
once and again only after a new push, and the default branch's commits recorded as changes."""

from __future__ import annotations

from pathlib import Path

from review.intake import Poller
from tests.support.github_world import REPO, github_world, route_pull_files


async def test_polling_reviews_a_new_pr_once_and_again_only_after_a_push(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        poller = Poller(w.services, w.notify)
        w.github.add_pull(REPO, 31, route_pull_files())
        first = await poller.poll_once()
        assert [(o.number, o.status) for o in first] == [(31, "posted")]

        remaining = w.github.rate_remaining
        assert await poller.poll_once() == []
        lists = w.github.seen("GET", f"/repos/{REPO}/pulls")
        pull_lists = [s for s in lists if s.path == f"/repos/{REPO}/pulls"]
        assert pull_lists[-1].status == 304 and pull_lists[-1].headers.get("If-None-Match")
        assert len(w.github.repo(REPO).reviews) == 1
        assert w.github.rate_remaining == remaining  # nothing changed: the list, repo and commits were free 304s
        last_round = w.github.requests[-3:]
        assert [(s.path.rsplit("/", 1)[-1], s.status) for s in last_round] == [
            ("pulls", 304),
            ("web", 304),
            ("commits", 304),
        ]

        w.github.push_to_pull(REPO, 31)
        again = await poller.poll_once()
        assert [(o.number, o.status) for o in again] == [(31, "posted")]
        assert len(w.github.repo(REPO).reviews) == 2
        assert len(w.notes) == 2


async def test_polling_skips_drafts_and_unlinked_teams(tmp_path: Path) -> None:
    async with github_world(tmp_path, link=False) as w:
        w.github.add_pull(REPO, 32, route_pull_files())
        assert await Poller(w.services).poll_once() == []
        assert w.github.requests == []
    async with github_world(tmp_path / "b") as w:
        w.github.add_pull(REPO, 33, route_pull_files(), draft=True)
        assert await Poller(w.services).poll_once() == []
        assert w.github.repo(REPO).reviews == []


async def test_polling_records_default_branch_commits_once(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        w.github.repo(REPO).push_commit("d" * 40, "Raise the agent timeout\n\nmore", "dev", "2026-11-30T09:46:00Z")
        poller = Poller(w.services)
        await poller.poll_once()
        await poller.poll_once()
        sql = "SELECT ref, author, title, via FROM changes WHERE source = 'github'"
        rows = await w.services.storage.db.fetchall(sql)
        assert [tuple(r) for r in rows] == [("d" * 40, "dev", "Raise the agent timeout", "poll")]
        since = [s.query.get("since") for s in w.github.seen("GET", f"/repos/{REPO}/commits")]
        assert since == [None, "2026-11-30T09:46:00Z"]
