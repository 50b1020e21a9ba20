"""The model's review: prompts/pr_review.j2 through the agent's tool loop (agent/loop.py), so the model can
read more files (github_get_file) or ask Grafana and Amplitude for production data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.loop import MAX_TURNS, run_loop
from agent.prompt import system_prompt, team_now
from agent.toolbox import Toolbox
from review.findings import Finding
from review.gather import Budgeted, PullRequestData, patches_text

if TYPE_CHECKING:
    from skills.services import Services
    from storage.teams import Team

REVIEW_MAX_TOKENS = 3000


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
    discussion = [f"{c['author']}: {c['body']}" for c in pr.issue_comments + pr.review_comments][-20:]
    parts = [
        f"Pull request {pr.repo}#{pr.number} by {pr.author}: {pr.title}",
        f"Head {pr.head_sha} on {pr.head_ref} into {pr.base_ref}; {len(pr.files)} files, +{pr.additions} "
        f"-{pr.deletions}",
        f"Description:\n{pr.body[:3000] or '(none)'}",
        "Discussion so far:\n" + ("\n".join(discussion) or "(none)"),
        "Production context (JSON; cite the links):\n"
        + json.dumps(context, ensure_ascii=False)
        + (f"\nNote: {note}" if note else ""),
        "Built-in findings:\n"
        + ("\n".join(f"- {f.kind} {f.path}:{f.line or ''} {f.message}" for f in findings) or "(none)"),
        "Patches:\n" + patches_text(budget),
    ]
    return "\n\n".join(parts)


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
    s = services.settings
    system = system_prompt(
        "pr_review", now=team_now(services, team), team=team, tools=bool(toolbox.tools), max_turns=MAX_TURNS
    )
    message = toolbox.redact(review_message(pr, budget, context, findings, note))
    result = await run_loop(
        services.anthropic(),
        model=s.model,
        system=toolbox.redact(system),
        messages=[{"role": "user", "content": message}],
        toolbox=toolbox,
        max_tokens=REVIEW_MAX_TOKENS,
    )
    return ModelReview(toolbox.redact(result.text), result.model, result.tokens_in, result.tokens_out, result.turns)
