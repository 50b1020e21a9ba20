"""Teams and their config documents (JSON Merge Patch, validated before stored).

`TeamStore` makes the default team at first start and reads teams; a config changes only through
storage/config_changes.py (merged, validated, stored, audited, the report jobs following, the version bumped).
`Team.timezone(settings)` and `Team.report_channel(settings)` are the team's effective time zone and report
channel (config wins over the environment), the one place they are worked out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from storage.audit import AuditLog
from storage.db import Database
from storage.team_config import TeamConfig, validate_config

if TYPE_CHECKING:
    from settings import Settings

DEFAULT_TEAM_ID = "default"


@dataclass(frozen=True)
class Team:
    id: str
    org_id: str
    name: str
    slack_team_id: str | None
    config: TeamConfig

    @property
    def config_document(self) -> dict[str, Any]:
        return self.config.model_dump(mode="json")

    def timezone(self, settings: Settings) -> str:
        """The team's effective time zone: reports.timezone, else SITREP_TIMEZONE."""
        return self.config.reports.timezone or settings.timezone

    def report_channel(self, settings: Settings) -> str | None:
        """The team's effective report channel: reports.channel, else SITREP_REPORT_CHANNEL (None: unset)."""
        return self.config.reports.channel or settings.report_channel


class TeamNotFound(LookupError):
    pass


class TeamStore:
    def __init__(self, db: Database, audit: AuditLog) -> None:
        self.db = db
        self.audit = audit

    async def ensure_default(self) -> Team:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO teams (id, org_id, name, config) VALUES (?, 'default', 'Default team', '{}')"
                " ON CONFLICT (id) DO NOTHING",
                (DEFAULT_TEAM_ID,),
            )
        return await self.get(DEFAULT_TEAM_ID)

    async def get(self, team_id: str) -> Team:
        row = await self.db.fetchone("SELECT * FROM teams WHERE id = ?", (team_id,))
        if row is None:
            raise TeamNotFound(team_id)
        return _team(row)

    async def find(self, org_id: str, team_id: str) -> Team:
        row = await self.db.fetchone("SELECT * FROM teams WHERE org_id = ? AND id = ?", (org_id, team_id))
        if row is None:
            raise TeamNotFound(f"{org_id}/{team_id}")
        return _team(row)

    async def for_slack_team(self, slack_team_id: str | None) -> Team:
        """The team bound to a Slack workspace, else the default team."""
        if slack_team_id:
            row = await self.db.fetchone("SELECT * FROM teams WHERE slack_team_id = ?", (slack_team_id,))
            if row is not None:
                return _team(row)
        return await self.get(DEFAULT_TEAM_ID)


def _team(row: Any) -> Team:
    return Team(
        id=row["id"],
        org_id=row["org_id"],
        name=row["name"],
        slack_team_id=row["slack_team_id"],
        config=validate_config(json.loads(row["config"])),
    )
