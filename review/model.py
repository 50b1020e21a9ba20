"""The model's review: prompts/pr_review.j2 through the agent's tool loop (agent/loop.py), so the model can
read more files (github_get_file) or ask Grafana and Amplitude for production data; asked as the model rule and
the REVIEWS use say (agent/model_client.py), its tokens recorded (source "review"). What it writes is made safe to
post on GitHub (text/model_text.py: no team mention, no mention of anyone outside the pull request's
conversation, no link whose label hides a host other than the team's)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.loop import MAX_TURNS, ModelError, run_loop
from agent.model_client import REVIEWS, claude
from agent.prompt import system_prompt, team_now
from agent.toolbox import Toolbox
from agent.usage import over_budget, record
from review.findings import Finding
from review.gather import Budgeted, PullRequestData, patches_text
from text.model_text import as_data, for_github

if TYPE_CHECKING:
    from agent.services import Services
    from storage.teams import Team


@dataclass
class ModelReview:
    text: str
    model: str
    tokens_in: int
    tokens_out: int
    turns: int


def review_message(
    pr: PullRequestData, budget: Budgeted, context: list[dict[str, Any]], findings: list[Finding], note: str
) -> str:
    """The pull request as the model reads it: what people wrote (title, description, discussion, patches) and
    what sitrep gathered, each delimited as data (text/model_text.py): instructions inside are not followed."""
    discussion = [f"{c['author']}: {c['body']}" for c in pr.issue_comments + pr.review_comments][-20:]
    parts = [
        f"Pull request {pr.repo}#{pr.number} by {pr.author}: " + as_data("title", pr.title),
        f"Head {pr.head_sha} on {pr.head_ref} into {pr.base_ref}; {len(pr.files)} files, +{pr.additions} "
        f"-{pr.deletions}",
        "Description:\n" + as_data("description", pr.body[:3000] or "(none)"),
        "Discussion so far:\n" + as_data("discussion", "\n".join(discussion) or "(none)"),
        "Production context (JSON; cite the links):\n"
        + as_data("production context", json.dumps(context, ensure_ascii=False))
        + (f"\nNote: {note}" if note else ""),
        "Built-in findings:\n"
        + ("\n".join(f"- {f.kind} {f.path}:{f.line or ''} {f.message}" for f in findings) or "(none)"),
        "Patches:\n" + as_data("patches", patches_text(budget)),
    ]
    return "\n\n".join(parts)


def people_of(pr: PullRequestData) -> set[str]:
    """Who is in the pull request's conversation (GitHub logins): its author and those who commented."""
    return {pr.author, *(c["author"] for c in pr.issue_comments + pr.review_comments)} - {""}


async def model_review(
    services: Services,
    team: Team,
    toolbox: Toolbox,
    pr: PullRequestData,
    budget: Budgeted,
    context: list[dict[str, Any]],
    findings: list[Finding],
    note: str,
) -> ModelReview:
    """Raises agent.loop.ModelError when Claude cannot be asked (the caller posts the rule-based review)."""
    if spent := await over_budget(services, team, REVIEWS.feature):
        raise ModelError(spent)
    started = time.monotonic()
    system = system_prompt(
        "pr_review", now=team_now(services, team), team=team, tools=bool(toolbox.tools), max_turns=MAX_TURNS
    )
    message = toolbox.redact(review_message(pr, budget, context, findings, note))
    result = await run_loop(
        claude(services, team, REVIEWS),
        system=system.map(toolbox.redact),
        messages=[{"role": "user", "content": message}],
        toolbox=toolbox,
    )
    if result.stop_reason == "max_tokens":
        raise ModelError("the review did not fit the length limit, even continued")
    text = for_github(toolbox.redact(result.text), toolbox.link_hosts, people_of(pr))
    await record(services, team, "review", f"(review {pr.repo}#{pr.number})", text, result, started)
    return ModelReview(text, result.model, result.tokens_in, result.tokens_out, result.turns)
