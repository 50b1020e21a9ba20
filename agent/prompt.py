"""System prompts: Jinja2 templates in prompts/, with the date, time zone, integrations and team instructions."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from skills.readiness import STATUS_LABEL, skill_readiness

if TYPE_CHECKING:
    from skills.base import Skill
    from skills.services import Services
    from storage.teams import Team

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


def render(name: str, **context: Any) -> str:
    return _env.get_template(f"{name}.j2").render(**context).strip() + "\n"


def system_prompt(
    name: str,
    *,
    now: datetime,
    team: Team,
    integrations: list[IntegrationLine] | None = None,
    tools: bool = True,
    max_turns: int = 8,
    extra: dict[str, Any] | None = None,
) -> str:
    return render(
        name,
        **(extra or {}),
        team_name=team.name,
        now=now.strftime("%Y-%m-%d %H:%M"),
        weekday=now.strftime("%A"),
        timezone=str(now.tzinfo),
        integrations=integrations or [],
        tools=tools,
        max_turns=max_turns,
        team_prompt=team.config.agents.planner.prompt.system.strip(),
    )
