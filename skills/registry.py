"""Which skills this build has, in the order their readiness rows appear."""

from __future__ import annotations

from skills import amplitude, github, grafana
from skills.base import SkillFactory

FACTORIES: dict[str, SkillFactory] = {
    "grafana": grafana.open_skill,
    "amplitude": amplitude.open_skill,
    "github": github.open_skill,
}


def default_factories() -> list[SkillFactory]:
    return list(FACTORIES.values())


def factory_for(name: str) -> SkillFactory:
    return FACTORIES[name]
