"""Services: settings, storage and each team's skills, built once in app.py and handed to every part of sitrep.

The class sits below the agent and the reports, which take it; what they need from the layers above them (the
full readiness table, the Slack Web API client reports post with) is handed in as a field, filled by
bot/services.py where the Slack surfaces are wired. It also holds the long-lived clients every question and report
share, each built once and closed with it: the Anthropic client (`anthropic()`) and the Slack Web API client.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slack_sdk.web.async_client import AsyncWebClient

from settings import Settings
from skills.base import Readiness, Skill, SkillContext, SkillFactory
from skills.vercel_drain import Relay
from storage.credentials import CredentialStore
from storage.jobs import JobStore
from storage.services import Storage, seed_report_jobs
from storage.teams import Team, TeamStore

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

log = logging.getLogger(__name__)

MODEL_TIMEOUT_S = 120.0
MODEL_RETRIES = 2


@dataclass
class Services:
    settings: Settings
    storage: Storage
    skill_factories: Sequence[SkillFactory] = ()
    slack_identity: dict[str, Any] | None = None  # auth.test's answer once connected to Slack
    scheduler: Any = None  # the report scheduler while it runs (reports/scheduler.py)
    drain: Relay | None = None  # the Vercel drain relay while the web server runs (bot/runtime.py)
    # Wired from above (bot/services.py): the readiness table's five rows, and the Slack client reports post with.
    readiness_table: Callable[[Team], Awaitable[list[Readiness]]] | None = None
    slack: AsyncWebClient | None = None
    _skills: dict[str, tuple[str, list[Skill]]] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _anthropic: AsyncAnthropic | None = None

    @property
    def teams(self) -> TeamStore:
        return self.storage.teams

    @property
    def credentials(self) -> CredentialStore:
        return self.storage.credentials

    @property
    def jobs(self) -> JobStore:
        return self.storage.jobs

    async def patch_config(self, team_id: str, patch: object, actor: str) -> Team:
        """Change a team's config; the report jobs follow reports.jobs, reports.channel and reports.timezone at once."""
        team = await self.storage.teams.patch_config(team_id, patch, actor)
        await seed_report_jobs(self.storage.jobs, team, self.settings, actor)
        if self.scheduler is not None:
            await self.scheduler.resync()
        return team

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
                settings=self.settings, team=team, credentials=self.storage.credentials, storage=self.storage
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

    def anthropic(self) -> AsyncAnthropic:
        """The one Anthropic client (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL): its connection pool serves every
        question and report summary. Built at first use; callers ask only when a key is set."""
        if self._anthropic is None:
            # lazy load: the SDK is imported where its one client is built, at first use (agent/loop.py still
            # imports it for its error types; with that import made lazy too, start-up never loads it)
            from anthropic import AsyncAnthropic

            s = self.settings
            self._anthropic = AsyncAnthropic(
                api_key=Settings.reveal(s.anthropic_api_key),
                base_url=s.anthropic_base_url or None,
                timeout=MODEL_TIMEOUT_S,
                max_retries=MODEL_RETRIES,
            )
        return self._anthropic

    async def close(self) -> None:
        for _, skills in self._skills.values():
            await _close_all(skills)
        self._skills.clear()
        if self._anthropic is not None:
            await self._anthropic.close()
            self._anthropic = None
        if self.slack is not None and self.slack.session is not None:
            await self.slack.session.close()
        await self.storage.close()


async def _close_all(skills: list[Skill]) -> None:
    for skill in skills:
        try:
            await skill.aclose()
        except Exception:  # pragma: no cover - closing must not fail shutdown
            log.exception("closing skill %s failed", skill.name)
