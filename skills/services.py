"""Services: settings, storage, each team's skills and the long-lived clients, built once at start-up (app.py) and
frozen from then on; handed to the agent, the reports, the review, every listener and the shell.

The skills per team are rebuilt when the team's credentials or config change (`skills_for`). The clients every
question and report share are each built once and closed by `close()`: `client(name, build)` (built at first use
by `build`: agent/model_client.py builds Claude's, its SDK imported only then) and `slack` (the Web API client,
built by bot/slack_client.py and handed in by app.py with one aiohttp session; only bot/ talks to Slack, through
bot/runtime.py's Runtime and its poster). `supervisor` owns the skills' background work (their caches' refreshes)
and is stopped first by `close()`. What exists only while the app runs (the scheduler, the drain relay, the Slack
identity, the poster) is not here: it is bot/runtime.py's `Runtime`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from settings import Settings
from skills.base import Skill, SkillContext, SkillFactory
from storage.credentials import CredentialStore
from storage.jobs import JobStore
from storage.services import Storage
from storage.teams import Team, TeamStore
from supervisor import Supervisor

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class Services:
    settings: Settings
    storage: Storage
    skill_factories: Sequence[SkillFactory] = ()
    slack: Any = None  # the Slack Web API client app.py built (bot/slack_client.py); bot/ reads it, nobody else
    supervisor: Supervisor = field(default_factory=Supervisor)  # owns the skills' background refreshes
    # Caches behind the frozen fields: each team's skills, and the clients built at first use (anthropic).
    _skills: dict[str, tuple[str, list[Skill]]] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _clients: dict[str, Any] = field(default_factory=dict)

    @property
    def teams(self) -> TeamStore:
        return self.storage.teams

    @property
    def credentials(self) -> CredentialStore:
        return self.storage.credentials

    @property
    def jobs(self) -> JobStore:
        return self.storage.jobs

    async def team_for(self, slack_team_id: str | None) -> Team:
        return await self.storage.teams.for_slack_team(slack_team_id)

    async def skills_for(self, team: Team) -> list[Skill]:
        """The team's skills, rebuilt when its credentials or config change (one httpx client each)."""
        key = await self._version(team)
        async with self._lock:
            cached = self._skills.get(team.id)
            if cached and cached[0] == key:
                return cached[1]
            ctx = SkillContext(
                settings=self.settings,
                team=team,
                credentials=self.storage.credentials,
                storage=self.storage,
                supervisor=self.supervisor,
            )
            skills = [await factory(ctx) for factory in self.skill_factories]
            if cached:
                await _close_all(cached[1])
            self._skills[team.id] = (key, skills)
            return skills

    async def skill(self, team: Team, name: str) -> Skill | None:
        for skill in await self.skills_for(team):
            if skill.name == name:
                return skill
        return None

    async def secrets(self) -> list[str]:
        """Every secret value sitrep holds (stored and bootstrap), for redaction and for tests that hunt leaks."""
        return list(await self.storage.credentials.all_values()) + self.settings.secret_values()

    async def _version(self, team: Team) -> str:
        row = await self.storage.db.fetchone(
            "SELECT (SELECT COUNT(*) || COALESCE(MAX(updated_at), '') FROM credentials WHERE team_id = ?) AS creds,"
            " (SELECT updated_at FROM teams WHERE id = ?) AS config,"
            " (SELECT COUNT(*) || COALESCE(MAX(linked_at), '') || COALESCE(CAST(SUM(suspended) AS TEXT), '')"
            " || COALESCE(CAST(MAX(installation_id) AS TEXT), '') FROM github_installations WHERE team_id = ?)"
            " AS github",
            (team.id, team.id, team.id),
        )
        raw = f"{row['creds']}|{row['config']}|{row['github']}" if row else ""
        return hashlib.sha256(raw.encode()).hexdigest()

    def client(self, name: str, build: Callable[[], T]) -> T:
        """The long-lived client `name`, built by `build` at its first use (one connection pool for every call
        after) and closed by close(); a failed build is tried again at the next use."""
        if name not in self._clients:
            self._clients[name] = build()
        built: T = self._clients[name]
        return built

    async def close(self) -> None:
        await self.supervisor.stop()  # the refreshes under way end before their clients close
        for _, skills in self._skills.values():
            await _close_all(skills)
        self._skills.clear()
        for name in list(self._clients):
            try:
                await self._clients.pop(name).close()
            except Exception:  # pragma: no cover - closing must not fail shutdown
                log.exception("closing the %s client failed", name)
        session = getattr(self.slack, "session", None)
        if session is not None:
            await session.close()
        await self.storage.close()


async def _close_all(skills: list[Skill]) -> None:
    for skill in skills:
        try:
            await skill.aclose()
        except Exception:  # pragma: no cover - closing must not fail shutdown
            log.exception("closing skill %s failed", skill.name)
