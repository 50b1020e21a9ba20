"""Services: what the agent, the reports, the review and the alert desk are handed: settings, storage, each team's
skills (skills/registry.py `SkillSet`), the model client (agent/model_client.py `ModelClient`, built at first
use) and the app's one Supervisor, which owns every background task (the skills' cache refreshes among them).

Built by the composition root (bot/root.py) for the running app, and by each command line and test for itself;
frozen from then on. It holds no logic of its own: each part is the owner's (the team lookup is the team store's,
the skills' cache the SkillSet's). `close()` closes what it holds in reverse order of need: the background work
first, then the skills' and the model's clients, then the database. What talks to Slack is not here: only bot/
does (bot/runtime.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from agent.model_client import ModelClient
from settings import Settings
from skills.base import Skill, SkillFactory
from skills.registry import SkillSet
from storage.services import Storage
from storage.teams import Team
from supervisor import Supervisor


@dataclass(frozen=True, eq=False)
class Services:
    settings: Settings
    storage: Storage
    skill_factories: Sequence[SkillFactory] = ()
    supervisor: Supervisor = field(default_factory=Supervisor)
    skills: SkillSet = field(init=False)
    model: ModelClient = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "skills", SkillSet(self.settings, self.storage, self.skill_factories, self.supervisor))
        object.__setattr__(self, "model", ModelClient(self.settings))

    async def team_for(self, slack_team_id: str | None) -> Team:
        return await self.storage.teams.for_slack_team(slack_team_id)

    async def skills_for(self, team: Team) -> list[Skill]:
        """The team's skills, built again when its credentials or config change (one httpx client each)."""
        return await self.skills.for_team(team)

    async def skill(self, team: Team, name: str) -> Skill | None:
        return await self.skills.get(team, name)

    async def secrets(self) -> list[str]:
        """Every secret value sitrep holds (stored and bootstrap), for redaction and for tests that hunt leaks."""
        return list(await self.storage.credentials.all_values()) + self.settings.secret_values()

    async def close(self) -> None:
        await self.supervisor.stop()  # the refreshes under way end before their clients close
        await self.skills.aclose()
        await self.model.aclose()
        await self.storage.close()
