"""A skill's memory across restarts (skills/cache.py's `Memory`): the team's rows of storage/remembered.py, under
names scoped to one integration instance (its URL and what picks its data sources), so a team that points sitrep
at another Grafana never gets the old one's discovery."""

from __future__ import annotations

from typing import Any

from storage.remembered import RememberedStore


class TeamMemory:
    def __init__(self, store: RememberedStore, team_id: str, scope: str) -> None:
        self.store = store
        self.team_id = team_id
        self.scope = scope

    async def recall(self, name: str) -> tuple[Any, float] | None:
        return await self.store.recall(self.team_id, f"{self.scope} {name}")

    async def keep(self, name: str, value: Any) -> None:
        await self.store.keep(self.team_id, f"{self.scope} {name}", value)
