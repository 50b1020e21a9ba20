"""The team's changes in a window, from every source at once: commits pushed to its routed repos' default branches
and Vercel deployments (both recorded in the changes table, storage/changes.py) and Grafana annotations (asked of
Grafana, skills/grafana/annotations.py). A source that cannot answer is named, never raised: the others still count.

`recent_changes(services, team, start, end)` is the plain function the report, the rule-based plays and alert
investigations call; the `recent_changes` tool (tools.py) is the same for the model.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from skills.base import Skill, SkillError
from skills.grafana import annotations as grafana_annotations
from skills.grafana.skill import GrafanaSkill
from storage.changes import GITHUB, GRAFANA, VERCEL, Change

if TYPE_CHECKING:
    from storage.services import Storage
    from storage.teams import Team

log = logging.getLogger(__name__)

LIMIT = 50
SOURCES = (GITHUB, VERCEL, GRAFANA)
PREVIEW = "preview"


class Sources(Protocol):
    """Where a team's changes are read: the store (its changes table) and its skills (Grafana's annotations). The
    agent's Services is one."""

    @property
    def storage(self) -> Storage: ...

    async def skill(self, team: Team, name: str) -> Skill | None: ...


@dataclass
class ChangeWindow:
    """The changes of [start, end], newest first, and what could not be read (one line per source)."""

    start: datetime
    end: datetime
    changes: list[Change] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # the sources that were asked (and answered)


async def collect(
    services: Sources,
    team: Team,
    start: datetime,
    end: datetime,
    *,
    limit: int = LIMIT,
    previews: bool = False,
    sources: Sequence[str] = SOURCES,
) -> ChangeWindow:
    """The changes of `sources` in [start, end] at once; Vercel preview deployments only with `previews`. The
    table (GitHub, Vercel) answers from sitrep's database; Grafana's annotations are a call to Grafana."""
    window = ChangeWindow(start, end)
    repos = team.config.routing.github_repos
    grafana = await services.skill(team, "grafana") if GRAFANA in sources else None
    stored_sources = tuple(s for s in sources if s in (GITHUB, VERCEL))
    stored, noted = await asyncio.gather(
        services.storage.changes.between(start, end, repos=repos, sources=stored_sources, limit=limit)
        if stored_sources
        else _nothing(),
        _annotations(grafana if isinstance(grafana, GrafanaSkill) else None, start, end, limit),
        return_exceptions=True,
    )
    found: list[Change] = []
    if isinstance(stored, BaseException):
        log.warning("reading recorded changes failed: %s", stored)
        window.unavailable.append(f"recorded deploys and pushes unavailable ({type(stored).__name__})")
    else:
        found += stored
        window.sources += [x for x in stored_sources if x != GITHUB or repos]
    if isinstance(noted, BaseException):
        message = noted.message if isinstance(noted, SkillError) else type(noted).__name__
        window.unavailable.append(f"Grafana annotations unavailable: {message}")
    elif noted is not None:
        found += noted
        window.sources.append("grafana")
    if not previews:
        found = [c for c in found if c.environment != PREVIEW]
    window.changes = sorted(found, key=lambda c: c.at, reverse=True)[:limit]
    return window


async def recent_changes(
    services: Sources, team: Team, start: datetime, end: datetime, *, limit: int = LIMIT
) -> list[Change]:
    """The team's changes in [start, end], newest first (production deploys, pushes, annotations)."""
    return (await collect(services, team, start, end, limit=limit)).changes


async def _nothing() -> list[Change]:
    return []


async def _annotations(skill: GrafanaSkill | None, start: datetime, end: datetime, limit: int) -> list[Change] | None:
    if skill is None or not skill.configured:
        return None
    return await grafana_annotations.changes_between(skill.client, start, end, limit)
