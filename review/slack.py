"""`@sitrep review <PR URL>` in Slack (or the shell): a forced review of that pull request, answered with a line."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from review.gather import parse_pr_url
from review.pipeline import review_pull

if TYPE_CHECKING:
    from agent.services import Services
    from storage.teams import Team


async def review_on_demand(services: Services, team: Team, text: str, user: str) -> str | None:
    """The answer's text, or None when the text carries no pull request URL (then it is a normal question)."""
    found = parse_pr_url(text.replace("<", " ").replace(">", " ").replace("|", " "))
    if found is None:
        return None
    repo, number = found
    out = await review_pull(services, team, repo, number, source="slack", forced_by=f"slack:{user}:{time.time_ns()}")
    if out.status == "posted":
        extra = f", {out.inline} inline comment{'s' if out.inline != 1 else ''}" if out.inline else ""
        return f":white_check_mark: Reviewed <{out.url}|{repo}#{number}> at `{out.head_sha[:7]}`{extra}."
    if out.status == "skipped":
        return f":information_source: {repo}#{number} not reviewed: {out.reason}."
    return f":warning: Could not review {repo}#{number}: {out.reason}"
