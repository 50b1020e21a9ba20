"""The rule-based planner at work: a Plan's intents run concurrently, each a play; their Sections rendered."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.agent import plays, plays_product
from bot.agent.formatting import Section, render
from bot.agent.plays import PlayContext
from bot.agent.rules import Plan
from bot.agent.toolbox import Toolbox

if TYPE_CHECKING:
    from skills.services import Services
    from storage.teams import Team

Play = Callable[[PlayContext], Awaitable[Section]]

PLAYBOOK: dict[str, Play] = {
    "status": plays_product.status,
    "errors": plays.errors,
    "logs": plays.logs,
    "latency": plays.latency,
    "alerts": plays.alerts,
    "dashboards": plays.dashboards,
    "agents": plays_product.agents,
    "user": plays_product.user,
    "releases": plays_product.releases,
}

CAN_ANSWER = (
    "Without an Anthropic API key I answer questions about: the *error rate* and errors, *logs*, *latency*, "
    "*alerts*, *dashboards* (and `create a dashboard`), *agent* events and failures, a *user*'s activity "
    "(`user <id>`), *releases*, and integration *status*; add a time like `last 6 hours` or `since this morning`.\n"
    "Try `@sitrep what's the error rate?` or `@sitrep why are agents failing since this morning?`. "
    "Set ANTHROPIC_API_KEY to ask anything."
)


async def answer_with_rules(
    toolbox: Toolbox, plan: Plan, *, services: Services | None = None, team: Team | None = None, preface: str = ""
) -> str:
    """Run every intent of the plan at once and render the answer: the conclusion first, then the evidence."""
    if plan.empty:
        return f"{preface}\n\n{CAN_ANSWER}".strip()
    ctx = PlayContext(toolbox, plan, services, team)
    sections = await asyncio.gather(*(PLAYBOOK[intent](ctx) for intent in plan.intents))
    return render(sections, preface=preface) or CAN_ANSWER
