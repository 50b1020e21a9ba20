"""What sitrep does with a verified GitHub event, and polling when GitHub cannot reach this host.

Webhooks (SITREP_PUBLIC_URL set): bot/github_web.py verifies and de-duplicates the delivery, answers 202 and
hands the parsed event to `handle_event` in a background task. Polling (no public URL): `Poller` asks each
routed repo every SITREP_GITHUB_POLL_SECONDS for its open pull requests, the repository (its default branch) and
that branch's commits, each conditionally (If-None-Match: an unchanged answer is a 304, which costs no rate
limit), reviews heads the ledger has not seen, and records the default branch's new commits as changes.

Either way a review GitHub's rate limit refuses is deferred (review/deferred.py) and runs after the limit's
time; while an installation is limited its repos are not polled at all (GitHub: send nothing before then).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from review.deferred import review_or_defer
from review.periodic import Periodic
from review.pipeline import Notify, ReviewOutcome, github_skill, is_routed
from skills.base import SkillError
from skills.github.client import GitHubClient
from skills.github.limits import clock_time
from skills.github.webhook import InstallationEvent, Intake, PushEvent, ReviewRequest
from storage.changes import pushed_commit
from storage.github import GitHubStore
from storage.times import iso

if TYPE_CHECKING:
    from agent.services import Services
    from storage.teams import Team

log = logging.getLogger(__name__)


async def all_teams(services: Services) -> list[Team]:
    rows = await services.storage.db.fetchall("SELECT id FROM teams ORDER BY id")
    return [await services.storage.teams.get(r["id"]) for r in rows]


async def teams_routing(services: Services, repo: str) -> list[Team]:
    teams = [t for t in await all_teams(services) if is_routed(t, repo)]
    if not teams:
        log.info("GitHub: %s is not routed to any team (routing.github_repos): event ignored", repo)
    return teams


async def handle_event(services: Services, intake: Intake, notify: Notify | None = None) -> list[ReviewOutcome]:
    """Act on one verified event. Never raises (a background task has nobody to raise to)."""
    try:
        return await _handle(services, intake, notify)
    except Exception:
        log.exception("handling a GitHub event failed")
        return []


async def _handle(services: Services, intake: Intake, notify: Notify | None) -> list[ReviewOutcome]:
    store = services.storage.github
    if isinstance(intake, ReviewRequest):
        outcomes = []
        for team in await teams_routing(services, intake.repo):
            outcomes.append(
                await review_or_defer(
                    services,
                    team,
                    intake.repo,
                    intake.number,
                    head_sha=intake.head_sha,
                    source=intake.source,
                    forced_by=intake.forced_by,
                    installation_id=intake.installation_id,
                    notify=notify,
                )
            )
        for o in outcomes:
            log.info("GitHub review of %s#%s: %s %s", o.repo, o.number, o.status, o.reason or o.url or "")
        return outcomes
    if isinstance(intake, PushEvent):
        if intake.branch != intake.default_branch or not await teams_routing(services, intake.repo):
            return []
        changes = [
            pushed_commit(intake.repo, c.sha, intake.branch, c.author, c.message, c.timestamp, c.url, "webhook")
            for c in intake.commits
        ]
        new = await store.changes_table.record(changes)
        log.info("GitHub: %d change(s) recorded on %s@%s", new, intake.repo, intake.branch)
        return []
    if isinstance(intake, InstallationEvent):
        if intake.action == "deleted":
            await store.unlink_installation(intake.installation_id, "github-webhook")
        elif intake.action in ("suspend", "unsuspend"):
            await store.set_suspended(intake.installation_id, intake.action == "suspend")
        elif intake.repos_removed:
            await _unroute(services, store, intake.installation_id, intake.repos_removed)
        log.info("GitHub installation %s (%s): %s", intake.installation_id, intake.account, intake.action)
    return []


async def _unroute(services: Services, store: GitHubStore, installation_id: int, removed: tuple[str, ...]) -> None:
    """The installation lost access to some repos: they leave the routing of the teams linked to it (audited)."""
    gone = {r.lower() for r in removed}
    for team_id in await store.teams_of_installation(installation_id):
        team = await services.storage.teams.get(team_id)
        repos = team.config.routing.github_repos
        kept = [r for r in repos if r.lower() not in gone]
        if kept != repos:
            await services.storage.config.patch(team_id, {"routing": {"github_repos": kept}}, "github-webhook")
            log.info(
                "GitHub installation %s lost %s: no longer routed to %s", installation_id, ", ".join(removed), team_id
            )


class Poller(Periodic):
    """Polls routed repos while there is no public URL. `poll_once` is one round; `run` repeats it until stopped."""

    name = "github-poller"

    def __init__(self, services: Services, notify: Notify | None = None, interval: float | None = None) -> None:
        super().__init__(interval or services.settings.github_poll_seconds)
        self.services = services
        self.notify = notify
        self.store = services.storage.github

    async def round(self) -> list[ReviewOutcome]:
        return await self.poll_once()

    async def poll_once(self) -> list[ReviewOutcome]:
        outcomes: list[ReviewOutcome] = []
        for team in await all_teams(self.services):
            skill = await github_skill(self.services, team)
            if skill is None or not skill.configured or skill.link is None:
                continue
            installation = skill.link.installation_id
            for repo in team.config.routing.github_repos:
                try:
                    if (block := skill.client.rate_limit(installation)) is not None:
                        log.info("not polling %s: rate-limited until %s", repo, clock_time(block.until))
                        continue
                    outcomes += await self._poll_repo(team, skill.client, installation, repo)
                except SkillError as exc:
                    log.warning("polling %s failed: %s", repo, exc.one_line())
        return outcomes

    async def _poll_repo(self, team: Team, client: GitHubClient, installation: int, repo: str) -> list[ReviewOutcome]:
        outcomes = []
        for pull in await client.open_pulls(installation, repo) or []:  # None: unchanged since the last round
            if pull.get("draft"):
                continue
            sha = str((pull.get("head") or {}).get("sha") or "")
            outcomes.append(
                await review_or_defer(
                    self.services,
                    team,
                    repo,
                    int(pull["number"]),
                    head_sha=sha,
                    source="poll",
                    installation_id=installation,
                    notify=self.notify,
                )
            )
        if client.rate_limit(installation) is None:  # else the commits wait for the next round after the limit
            await self._changes(client, installation, repo)
        return [o for o in outcomes if o.status != "skipped"]

    async def _changes(self, client: GitHubClient, installation: int, repo: str) -> None:
        _, since = await self.store.poll_state(repo)
        branch = str((await client.repo(installation, repo)).get("default_branch") or "main")
        rows = await client.commits(installation, repo, branch, since)
        changes = []
        for c in rows or []:  # None: unchanged since the last round
            commit = c.get("commit") or {}
            when = str((commit.get("committer") or commit.get("author") or {}).get("date") or "")
            author = str((c.get("author") or {}).get("login") or (commit.get("author") or {}).get("name") or "")
            message = str(commit.get("message") or "").split("\n", 1)[0]
            changes.append(
                pushed_commit(repo, str(c.get("sha")), branch, author, message, when, c.get("html_url"), "poll")
            )
        if changes:
            await self.store.changes_table.record(changes)
            latest = max(c.at for c in changes)
            await self.store.save_poll_state(repo, last_commit_at=iso(latest, millis=False))
