"""The instrumentation end to end, for the command line and for Slack: check the repository, scan it, plan the
edits (rule-based, or Claude's proposal through the same checks), then push and open or update the pull request
and record it for the readiness row."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from skills.amplitude.instrument.plan import Plan, make_plan
from skills.amplitude.instrument.publish import Published, Refused, Target, check_target, open_pull, publish
from skills.amplitude.instrument.scan import Limits, Progress, Snapshot, scan

if TYPE_CHECKING:
    from skills.github.api import GitHubApp
    from storage.instrumentation import InstrumentationStore

Proposer = Callable[[Snapshot, Plan], Awaitable[Plan]]


async def _quiet(what: str, done: int, total: int) -> None:
    return None


@dataclass
class Prepared:
    target: Target
    snapshot: Snapshot
    plan: Plan
    pull: dict[str, Any] | None  # sitrep's open pull request on the repository, which a run updates

    @property
    def pull_label(self) -> str:
        return f"#{self.pull.get('number')}" if self.pull else ""


def linked_repo(github: GitHubApp, repo: str) -> str:
    """`repo` as routed to the team (its spelling); Refused when it is not one of the team's repositories."""
    for routed in github.repos:
        if routed.lower() == repo.strip().lower():
            return routed
    known = ", ".join(github.repos) or "none"
    raise Refused(
        f"{repo} is not linked to this team (linked: {known})",
        "Link it with Link GitHub on the Home tab (or routing.github_repos)",
    )


async def prepare(
    github: GitHubApp,
    repo: str,
    *,
    region: str = "us",
    commit: str | None = None,
    progress: Progress = _quiet,
    limits: Limits | None = None,
    proposer: Proposer | None = None,
) -> Prepared:
    """Checks, scan and plan; nothing is written. `commit` pins the scan to what a preview showed."""
    repo = linked_repo(github, repo)
    client, installation = github.client, github.installation_id
    target = await check_target(client, installation, repo)
    snap = await scan(
        client, installation, target.repo, target.default_branch, commit=commit, limits=limits, progress=progress
    )
    plan = await asyncio.to_thread(make_plan, snap, region)  # parsing is CPU work: the loop keeps answering
    if proposer is not None:
        await progress("Asking Claude for the edits", 0, 0)
        plan = await proposer(snap, plan)
    return Prepared(target, snap, plan, await open_pull(client, target))


async def open_pull_request(
    github: GitHubApp, prepared: Prepared, *, store: InstrumentationStore | None, team_id: str, actor: str
) -> Published:
    """Push and open (or update) the pull request; recorded for the Amplitude readiness row."""
    published = await publish(github.client, prepared.target, prepared.plan)
    if store is not None:
        await store.record(
            team_id,
            published.repo,
            published.number,
            published.url,
            published.branch,
            published.commit,
            len(prepared.plan.points),
            actor,
        )
    return published
