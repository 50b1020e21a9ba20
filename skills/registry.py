"""Which skills this build has, in the order their readiness rows appear, and each team's skills built of them
(`SkillSet`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from skills import amplitude, github, grafana
from skills.base import Skill, SkillContext, SkillFactory

if TYPE_CHECKING:
    from settings import Settings
    from storage.services import Storage
    from storage.teams import Team
    from supervisor import Supervisor

log = logging.getLogger(__name__)

FACTORIES: dict[str, SkillFactory] = {
    "grafana": grafana.open_skill,
    "amplitude": amplitude.open_skill,
    "github": github.open_skill,
}


def default_factories() -> list[SkillFactory]:
    return list(FACTORIES.values())


def factory_for(name: str) -> SkillFactory:
    return FACTORIES[name]


class SkillSet:
    """Each team's skills, built from the factories with the team's credentials and config, and built again when
    those change (`Storage.integrations_version`: credentials, config, the GitHub link). One httpx client a skill;
    the skills replaced, and all of them at `aclose`, are closed."""

    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        factories: Sequence[SkillFactory] = (),
        supervisor: Supervisor | None = None,
    ) -> None:
        self.settings, self.storage, self.factories, self.supervisor = settings, storage, list(factories), supervisor
        self._built: dict[str, tuple[str, list[Skill]]] = {}
        self._lock = asyncio.Lock()

    async def for_team(self, team: Team) -> list[Skill]:
        version = await self.storage.integrations_version(team.id)
        async with self._lock:
            cached = self._built.get(team.id)
            if cached and cached[0] == version:
                return cached[1]
            ctx = SkillContext(
                settings=self.settings,
                team=team,
                credentials=self.storage.credentials,
                storage=self.storage,
                supervisor=self.supervisor,
            )
            skills = [await factory(ctx) for factory in self.factories]
            if cached:
                await _close_all(cached[1])
            self._built[team.id] = (version, skills)
            return skills

    async def get(self, team: Team, name: str) -> Skill | None:
        return next((s for s in await self.for_team(team) if s.name == name), None)

    async def aclose(self) -> None:
        for _, skills in self._built.values():
            await _close_all(skills)
        self._built.clear()


async def _close_all(skills: list[Skill]) -> None:
    for skill in skills:
        try:
            await skill.aclose()
        except Exception:  # pragma: no cover - closing must not fail shutdown
            log.exception("closing skill %s failed", skill.name)
