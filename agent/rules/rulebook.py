"""The rule-based planner at work: a Plan's intents run concurrently, each a play; their Sections rendered."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from agent.formatting import Section, render
from agent.rules import plays, plays_changes, plays_dashboards, plays_metrics, plays_product, plays_triage
from agent.rules.planner import Plan
from agent.rules.plays import PlayContext, ReadinessTable
from agent.rules.scope import resolve_scope, scope_line
from agent.toolbox import Toolbox

if TYPE_CHECKING:
    from agent.services import Services
    from storage.teams import Team

Play = Callable[[PlayContext], Awaitable[Section]]

PLAYBOOK: dict[str, Play] = {
    "status": plays_product.status,
    "triage": plays_triage.triage,
    "errors": plays.errors,
    "codes": plays_triage.codes,
    "metrics": plays_metrics.metrics,
    "inventory": plays_triage.inventory,
    "logs": plays.logs,
    "latency": plays.latency,
    "alerts": plays_triage.scoped_alerts,
    "dashboards": plays_dashboards.dashboards,
    "agents": plays_product.agents,
    "user": plays_product.user,
    "releases": plays_product.releases,
}

WITH_DEPLOYS = frozenset({"errors", "triage"})  # answers that show the window's deploys beside the errors

CAN_ANSWER = (
    "Without an Anthropic API key I answer questions about: trouble (`why did checkout stop working?`), the "
    '*error rate* and errors, *logs* (`find "query failed" in the logs of checkout`), HTTP *status codes*, '
    "*latency*, *metrics* (`CPU per namespace`, or PromQL in backticks), *alerts*, *dashboards* (and `create a "
    "dashboard`), *agent* events and failures, a *user*'s activity (`user <id>`), *releases*, `list the "
    "namespaces` (or pods, services) and `sitrep status`. "
    "Name a service, pod, path, status code or quoted term to narrow it, and a time like `last 6 hours`, "
    "`since last Thursday` or `between 9 and 10 this morning`.\n"
    "Try `@sitrep what's the error rate?` or `@sitrep why are agents failing since this morning?`. "
    "Set ANTHROPIC_API_KEY to ask anything."
)


async def answer_with_rules(
    toolbox: Toolbox,
    plan: Plan,
    *,
    services: Services | None = None,
    team: Team | None = None,
    preface: str = "",
    readiness: ReadinessTable | None = None,
) -> str:
    """Run every intent of the plan at once and render the answer: the conclusion first, then the evidence."""
    if plan.empty and not plan.subject.external:
        return f"{preface}\n\n{CAN_ANSWER}".strip()
    ctx = PlayContext(toolbox, plan, services, team, readiness=readiness)
    if plan.subject.external:
        seen, visible = await plays_triage.external(ctx)
        if not visible or plan.empty:
            return render([seen], preface=preface)
    if plan.grafana:
        ctx.scope = await resolve_scope(toolbox, plan)
        line = scope_line(plan, ctx.scope)
        preface = f"{preface}\n\n{line}".strip() if preface else line
    elif plan.unreadable_time:
        note = f'I could not read the time "{plan.unreadable_time}": this covers {plan.window.short}.'
        preface = f"{preface}\n\n{note}".strip() if preface else note
    runs = [PLAYBOOK[intent](ctx) for intent in plan.intents]
    if WITH_DEPLOYS.intersection(plan.intents):
        runs.append(plays_changes.deploys(ctx))
    sections = await asyncio.gather(*runs)
    return render(sections, preface=preface) or CAN_ANSWER
