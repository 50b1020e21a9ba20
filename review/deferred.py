"""Reviews GitHub's rate limit put off, and the loop that runs them once the limit has passed.

GitHub's rule is to send nothing before `retry-after` has elapsed or `x-ratelimit-reset` has come (an hour away,
at worst). A coroutine is not held for that long: the client raises `RateLimited` with the time, and the review
is written to github_deferred_reviews with it (the webhook delivery was acked long ago and a poll's next 304
would not bring the pull back, so only the table remembers). `DeferredReviews` looks every minute for reviews
whose time has come and runs them again; a review refused again is deferred again, and one deferred more than
MAX_DEFERRALS times is given up with a warning and left failed in the ledger.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from review.periodic import Periodic
from review.pipeline import Notify, ReviewOutcome, github_skill, review_pull
from skills.base import SkillError
from skills.github.limits import Block, clock_time
from storage.github import DeferredReview
from storage.times import iso

if TYPE_CHECKING:
    from agent.services import Services
    from storage.teams import Team

log = logging.getLogger(__name__)

MAX_DEFERRALS = 8
CHECK_EVERY_S = 60.0


async def review_or_defer(
    services: Services,
    team: Team,
    repo: str,
    number: int,
    *,
    head_sha: str = "",
    source: str = "webhook",
    forced_by: str = "",
    installation_id: int | None = None,
    notify: Notify | None = None,
) -> ReviewOutcome:
    """`review_pull`, unless GitHub's rate limit is in force (before or during the review): then the review is
    deferred until the limit's time, and the outcome says "deferred" with that time."""
    skill = await github_skill(services, team)
    try:
        client = skill.client if skill is not None and skill.configured else None
    except SkillError:  # an unreadable key: review_pull says so
        client = None
    installation = installation_id or (skill.link.installation_id if skill and skill.link else None)
    block = client.rate_limit(installation) if client is not None else None
    if block is None:
        out = await review_pull(
            services,
            team,
            repo,
            number,
            head_sha=head_sha,
            source=source,
            forced_by=forced_by,
            installation_id=installation_id,
            notify=notify,
        )
        block = client.rate_limit(installation) if client is not None and out.status == "failed" else None
        if block is None:
            return out
    else:
        out = ReviewOutcome("failed", repo=repo, number=number, head_sha=head_sha)
    return await _defer(services, team, out, block, forced_by, installation_id, source)


async def _defer(
    services: Services,
    team: Team,
    out: ReviewOutcome,
    block: Block,
    forced_by: str,
    installation_id: int | None,
    source: str,
) -> ReviewOutcome:
    store = services.storage.github
    until = iso(datetime.fromtimestamp(block.until, UTC))
    reason = f"rate-limited until {clock_time(block.until)} ({block.kind}); review deferred"
    row = DeferredReview(team.id, out.repo, out.number, out.head_sha, forced_by, installation_id, source, until, reason)
    times = await store.defer_review(row)
    if times > MAX_DEFERRALS:
        await store.drop_deferred(row)
        out.status = "failed"
        out.reason = f"GitHub kept refusing for rate limiting: given up after {MAX_DEFERRALS} deferrals"
        log.warning("GitHub review of %s#%s: %s", out.repo, out.number, out.reason)
        return out
    out.status, out.reason = "deferred", reason
    log.info("GitHub review of %s#%s %s", out.repo, out.number, reason)
    return out


class DeferredReviews(Periodic):
    """Runs deferred reviews whose time has come: `run_due` once; `run` every `every` seconds until stopped."""

    name = "github-deferred-reviews"

    def __init__(
        self,
        services: Services,
        notify: Notify | None = None,
        *,
        every: float = CHECK_EVERY_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(every)
        self.services = services
        self.notify = notify
        self.clock = clock
        self.store = services.storage.github

    async def round(self) -> list[ReviewOutcome]:
        return await self.run_due()

    async def run_due(self) -> list[ReviewOutcome]:
        outcomes = []
        for row in await self.store.deferred_reviews(due_by=datetime.fromtimestamp(self.clock(), UTC)):
            team = await self.services.storage.teams.get(row.team_id)
            out = await review_or_defer(
                self.services,
                team,
                row.repo,
                row.number,
                head_sha=row.head_sha,
                source=row.source,
                forced_by=row.forced_by,
                installation_id=row.installation_id,
                notify=self.notify,
            )
            if out.status != "deferred" or out.head_sha != row.head_sha:  # ran, or deferred under its real head
                await self.store.drop_deferred(row)
            outcomes.append(out)
        return outcomes
