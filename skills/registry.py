"""Which skills this build has, in the order their readiness rows appear."""

from __future__ import annotations

from skills import grafana
from skills.base import SkillFactory


def default_factories() -> list[SkillFactory]:
    return [grafana.open_skill]
