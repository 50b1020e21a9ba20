"""A review GitHub's rate limit refuses is deferred, not lost: a webhook delivery (acked long ago) and a poll
(whose next round answers 304) both leave it in github_deferred_reviews; nothing is sent to GitHub before the
limit's time; the readiness row says until when; and after the time the review runs and is posted once."""

from __future__ import annotations

import time
from pathlib import Path

from bot.readiness import readiness_table
from bot.runtime import Runtime
from review.deferred import DeferredReviews
from review.intake import Poller, handle_event
from review.pipeline import github_skill
from skills.base import ReadinessStatus
from skills.github.limits import clock_time
from skills.github.webhook import ReviewRequest
from storage.github import GitHubStore
from tests.fakes.github_limits import PRIMARY, SECONDARY
from tests.fakes.github_repo import Pull
from tests.support.github_world import INSTALLATION, REPO, World, github_world, route_pull_files


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def shared_clock(w: World) -> Clock:
    """One clock for the fake GitHub (token expiry, the rate-limit window) and sitrep's client."""
    clock = Clock()
    w.github.clock = clock
    skill = await github_skill(w.services, await w.team())
    assert skill is not None
    skill.client.clock = clock
    return clock


async def test_a_webhook_review_refused_by_the_primary_limit_runs_after_the_reset(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        clock = await shared_clock(w)
        pr: Pull = w.github.add_pull(REPO, 41, route_pull_files())
        w.github.rate_limit_next(1, PRIMARY, reset_in=3600)
        request = ReviewRequest(REPO, 41, pr.head_sha, INSTALLATION)
        [out] = await handle_event(w.services, request, w.notify)
        reset = w.github.limits.reset_at
        assert out.status == "deferred" and f"rate-limited until {clock_time(reset + 1)}" in out.reason
        assert w.github.repo(REPO).reviews == []
        store = GitHubStore(w.services.storage.db)
        assert [(d.number, d.head_sha) for d in await store.deferred_reviews()] == [(41, pr.head_sha)]

        sent = len(w.github.requests)
        row = {r.integration: r for r in await readiness_table(Runtime(w.services), await w.team())}["GitHub"]
        assert row.status is ReadinessStatus.BLOCKED
        assert f"rate-limited until {clock_time(reset + 1)}; 1 review deferred" in row.missing
        runner = DeferredReviews(w.services, w.notify, clock=clock)
        clock.now = reset - 60
        assert await runner.run_due() == []  # not due: the reset has not come
        assert await handle_event(w.services, ReviewRequest(REPO, 41, pr.head_sha, INSTALLATION, forced_by="x"))
        assert len(w.github.requests) == sent  # the readiness row, the runner, a new delivery: nothing sent

        clock.now = reset + 2
        outcomes = await runner.run_due()  # the delivery's review, and the forced one that came during the limit
        assert [(o.number, o.status) for o in outcomes] == [(41, "posted"), (41, "posted")]
        assert len(w.github.repo(REPO).reviews) == 2
        assert await store.deferred_reviews() == []
        assert await runner.run_due() == []  # once: nothing runs twice


async def test_a_polled_review_refused_by_a_secondary_limit_is_not_lost_to_the_next_304(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        clock = await shared_clock(w)
        w.github.add_pull(REPO, 42, route_pull_files())
        poller, runner = Poller(w.services, w.notify), DeferredReviews(w.services, w.notify, clock=clock)

        def limit_after_the_list(seen: object) -> None:
            if getattr(seen, "path", "") == f"/repos/{REPO}/pulls" and getattr(seen, "status", 0) == 200:
                w.github.rate_limit_next(1, SECONDARY)  # no retry-after, remaining not 0

        w.github.hooks.append(limit_after_the_list)
        [out] = await poller.poll_once()
        w.github.hooks.clear()
        assert out.status == "deferred" and "secondary rate limit" in out.reason
        sent = len(w.github.requests)
        assert await poller.poll_once() == [] and len(w.github.requests) == sent  # limited: not even polled
        limit = (await github_skill(w.services, await w.team())).client.rate_limit(INSTALLATION)  # type: ignore[union-attr]
        assert limit is not None and limit.until - clock.now >= 60  # at least a minute

        clock.now = limit.until + 1
        assert await poller.poll_once() == []  # the list is unchanged: a 304 that brings nothing back
        assert w.github.seen("GET", f"/repos/{REPO}/pulls")[-1].status == 304
        [again] = await runner.run_due()
        assert again.status == "posted" and len(w.github.repo(REPO).reviews) == 1
        ledger = await GitHubStore(w.services.storage.db).reviews(REPO)
        assert [(r.status, r.number) for r in ledger] == [("posted", 42)]
