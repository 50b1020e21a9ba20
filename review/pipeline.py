"""One pull-request review, end to end: route check, ledger claim, gather, production context, the model's
review (or the rule-based one), the coding subagent, one posted review, a one-line note in the team's channel.

Both intakes (webhooks and polling) and the Slack command come here. The ledger claim comes before any work,
so a head is reviewed once however many deliveries, pollers or processes see it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agent.loop import ModelError
from agent.model_client import model_ready
from agent.toolbox import Toolbox
from review.context import grafana_discovery, production_context
from review.findings import edits_of, find
from review.gather import budget_patches, gather
from review.model import model_review
from review.post import post_review, push_commit
from review.render import bound_body, context_lines, inline_comments, rule_based_body
from skills.base import SkillError
from skills.github.skill import GitHubSkill
from skills.grafana.skill import GrafanaSkill
from supervisor import Scope
from text.mrkdwn import esc, link

if TYPE_CHECKING:
    from agent.services import Services
    from settings import Settings
    from storage.teams import Team

log = logging.getLogger(__name__)

Notify = Callable[[str, str], Awaitable[None]]  # (channel, text)


@dataclass
class ReviewOutcome:
    status: str  # posted | skipped | failed
    reason: str = ""
    repo: str = ""
    number: int = 0
    head_sha: str = ""
    url: str | None = None
    inline: int = 0
    fell_back: bool = False
    planner: str = ""
    tokens_in: int = 0
    patch_tokens: int = 0
    patch_budget: int = 0
    pushed: str | None = None
    context: list[dict[str, Any]] = field(default_factory=list)
    body: str = ""


def is_routed(team: Team, repo: str) -> bool:
    return repo.lower() in {r.lower() for r in team.config.routing.github_repos}


def note_channel(team: Team, settings: Settings) -> str | None:
    """Where PR notes go: the first of routing.channels, else the team's report channel (SITREP_REPORT_CHANNEL
    when the config names none: `Team.report_channel`)."""
    channels = team.config.routing.channels
    return channels[0] if channels else team.report_channel(settings)


async def github_skill(services: Services, team: Team) -> GitHubSkill | None:
    skill = await services.skill(team, "github")
    return skill if isinstance(skill, GitHubSkill) else None


async def review_pull(
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
    dry_run: bool = False,
) -> ReviewOutcome:
    """Review one pull request head once. Never raises: a failure is an outcome with the reason."""
    out = ReviewOutcome("skipped", repo=repo, number=number, head_sha=head_sha)
    if not is_routed(team, repo):
        log.info("GitHub: %s is not routed to team %s (routing.github_repos): ignored", repo, team.id)
        out.reason = f"{repo} is not routed to this team: add it with Link GitHub on the Home tab"
        return out
    skill = await github_skill(services, team)
    if skill is None or not skill.configured:
        out.status, out.reason = "failed", "the GitHub App is not configured (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY)"
        return out
    store = services.storage.github
    try:
        installation = installation_id or skill.installation_id
        if not head_sha:
            pull = await skill.client.pull(installation, repo, number)
            head_sha = out.head_sha = str((pull.get("head") or {}).get("sha") or "")
    except SkillError as exc:
        out.status, out.reason = "failed", exc.one_line()
        return out
    claim = None
    if not dry_run:
        claim = await store.claim_review(team.id, repo, number, head_sha, source, forced_by)
        if claim is None:
            out.reason = f"{repo}#{number} at {head_sha[:7]} is already reviewed"
            return out
    try:
        async with Scope() as scope:  # what the review starts beside its reads ends with it
            await _review(scope, services, team, skill, installation, out, notify, dry_run)
    except Exception as exc:  # the ledger records why; nothing upstream may crash the caller
        if not isinstance(exc, SkillError):
            log.exception("reviewing %s#%s failed", repo, number)
        out.status, out.reason = "failed", exc.one_line() if isinstance(exc, SkillError) else f"{type(exc).__name__}"
    if claim is not None:
        await store.finish_review(
            claim,
            out.status if out.status in ("posted", "skipped") else "failed",
            review_url=out.url,
            inline_comments=out.inline,
            planner=out.planner,
            tokens_in=out.tokens_in,
            error=out.reason or None,
        )
    return out


async def _review(
    scope: Scope,
    services: Services,
    team: Team,
    skill: GitHubSkill,
    installation: int,
    out: ReviewOutcome,
    notify: Notify | None,
    dry_run: bool,
) -> None:
    client = skill.client
    grafana = await services.skill(team, "grafana")
    grafana_skill = grafana if isinstance(grafana, GrafanaSkill) else None
    discovery = scope.start(grafana_discovery(grafana_skill), "Grafana's data sources")  # beside the reads
    pr = await gather(client, installation, out.repo, out.number)
    if out.head_sha and pr.head_sha and pr.head_sha != out.head_sha and not dry_run:
        # a newer push arrived: its own event (or the next poll) reviews that head (the scope ends the discovery)
        out.status, out.reason = "skipped", f"the head moved from {out.head_sha[:7]} to {pr.head_sha[:7]}"
        return
    out.head_sha = pr.head_sha or out.head_sha
    toolbox = await Toolbox.for_team(services, team)
    toolbox.secrets += skill.secrets()
    context, note = await production_context(toolbox, grafana_skill, pr.files, await discovery)
    out.context = context
    findings = find(pr)
    coding = team.config.agents.coding
    suggestions, coding_note = False, ""
    edits = edits_of(findings)
    if coding.enabled and edits:
        if coding.mode == "commit" and not dry_run:
            default_branch = str((await client.repo(installation, out.repo)).get("default_branch") or "")
            pushed, why = await push_commit(client, installation, pr, edits, default_branch)
            out.pushed = pushed.sha if pushed else None
            if pushed is not None:  # its own commit's synchronize event is not a new head to review
                store = services.storage.github
                own = await store.claim_review(team.id, out.repo, out.number, pushed.sha, "coding-commit")
                if own is not None:
                    await store.finish_review(own, "posted", error="commit pushed by sitrep's coding agent")
            coding_note = f"**Coding agent** (`agents.coding.mode: commit`): {why}"
        else:
            suggestions = True
            coding_note = "**Coding agent**: the tracking calls are suggested inline; apply them from the review."
    budget = budget_patches(pr.files)
    out.patch_tokens, out.patch_budget = budget.tokens, budget.budget
    body = ""
    if model_ready(services.settings):
        try:
            reviewed = await model_review(services, team, toolbox, pr, budget, context, findings, note)
            out.planner, out.tokens_in = "claude", reviewed.tokens_in
            body = _model_body(reviewed.text, pr_context=context, note=note, findings=findings, coding=coding_note)
        except ModelError as exc:
            log.warning("Claude did not review %s#%s (%s): the rule-based review is posted", out.repo, out.number, exc)
            note = "; ".join(n for n in (note, f"Claude did not answer ({exc}), so this is the built-in review") if n)
    if not body:
        out.planner = "rules"
        body = rule_based_body(
            pr, context, findings, context_note=note, coding_note=coding_note, listed_only=len(budget.listed)
        )
    comments = [dict(c, body=toolbox.redact(c["body"])) for c in inline_comments(pr, findings, suggestions=suggestions)]
    out.body = toolbox.redact(body)
    if dry_run:
        out.status = "printed"
        return
    posted = await post_review(client, installation, pr, out.body, comments)
    out.status, out.url, out.inline, out.fell_back = "posted", posted.url, posted.inline, posted.fell_back
    channel = note_channel(team, services.settings)
    if notify is not None and channel:
        title = esc(pr.title[:80])  # the author's words: never a mention or a link in Slack
        text = f"Reviewed {link(pr.url, f'{out.repo}#{out.number}')} “{title}”: {link(posted.url, 'review on GitHub')}"
        try:
            await notify(channel, toolbox.redact(text))
        except Exception:  # the review is posted; only its Slack note is lost
            log.exception("the Slack note for %s#%s failed", out.repo, out.number)


def _model_body(text: str, *, pr_context: list[dict[str, Any]], note: str, findings: list, coding: str) -> str:
    parts = [text.strip() or "_(the model gave no text)_", "#### Production context"]
    parts.append("\n".join(context_lines(pr_context)) or f"- {note or 'this pull request touches no Next.js route'}")
    if findings:
        parts.append("#### Built-in checks\n" + "\n".join(f"- **{f.kind}** `{f.path}`: {f.message}" for f in findings))
    if coding:
        parts.append(coding)
    return bound_body("\n\n".join(parts))
