"""System prompts: Jinja2 templates in prompts/, in two parts so that Claude's prompt cache can keep the first.

`fixed` is prompts/<name>.j2 with only what stays the same from one call to the next for a team (its name, whether
it has tools, the turn cap); `context` is prompts/context.j2 (the time now, then prompts/<name>_context.j2 when
there is one: the integrations and the question's hints, the report's window; then the team's instructions).
The request puts tools, then `fixed` with a cache breakpoint, then `context`, then the conversation
(agent/request.py)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from skills.readiness import STATUS_LABEL, skill_readiness

if TYPE_CHECKING:
    from agent.services import Services
    from skills.base import Skill
    from storage.teams import Team

_BLANKS = re.compile(r"\n{3,}")
PROMPTS_DIR = Path(__file__).resolve().parents[1] / "prompts"
READINESS_TIMEOUT_S = 3.0

_env = Environment(
    loader=FileSystemLoader(PROMPTS_DIR),
    undefined=StrictUndefined,
    autoescape=False,
    keep_trailing_newline=True,
    trim_blocks=False,
)


@dataclass(frozen=True)
class IntegrationLine:
    name: str
    status: str
    note: str = ""


def team_now(services: Services, team: Team) -> datetime:
    """Now in the team's time zone (reports.timezone, else SITREP_TIMEZONE)."""
    return datetime.now(ZoneInfo(team.timezone(services.settings)))


async def integrations(skills: list[Skill]) -> list[IntegrationLine]:
    """Each skill's readiness, checked concurrently, each bounded by a few seconds."""
    rows = await asyncio.gather(*(skill_readiness(s, READINESS_TIMEOUT_S) for s in skills))
    lines = []
    for skill, row in zip(skills, rows, strict=True):
        note = "" if row.ready else f"{row.missing}; next step: {row.next_step}"
        lines.append(IntegrationLine(skill.title, STATUS_LABEL[row.status].lower(), note))
    return lines


def render(template: str, /, **context: Any) -> str:
    return _env.get_template(f"{template}.j2").render(**context).strip() + "\n"


@dataclass(frozen=True)
class SystemPrompt:
    fixed: str  # the same for every call of this prompt and team: cached
    context: str = ""  # what changes: the time, the question's hints, the team's instructions

    @property
    def text(self) -> str:
        return "\n".join(part for part in (self.fixed, self.context) if part)

    def map(self, change: Callable[[str], str]) -> SystemPrompt:
        """Both parts through `change` (redaction)."""
        return SystemPrompt(change(self.fixed), change(self.context) if self.context else "")


def system_prompt(
    name: str,
    *,
    now: datetime,
    team: Team,
    integrations: list[IntegrationLine] | None = None,
    tools: bool = True,
    max_turns: int = 8,
    extra: dict[str, Any] | None = None,
) -> SystemPrompt:
    """prompts/<name>.j2 with the team's stable values, and the context that changes with each call; `extra`
    reaches both (question hints, a report's window, facts)."""
    stable = {"team_name": team.name, "tools": tools, "max_turns": max_turns}
    fixed = render(name, **(extra or {}), **stable)
    context = render(
        "context",
        **(extra or {}),
        **stable,
        name=name,
        now=now.strftime("%Y-%m-%d %H:%M"),
        weekday=now.strftime("%A"),
        timezone=str(now.tzinfo),
        integrations=integrations or [],
        team_prompt=team.config.agents.planner.prompt.system.strip(),
    )
    return SystemPrompt(fixed, _BLANKS.sub("\n\n", context))
