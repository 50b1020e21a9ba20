"""The one path a team's config changes by, whoever changes it: the Slack modals, the admin API
(`PATCH /api/v1/config/me`), `python app.py config patch`, GitHub's installation webhooks (review/intake.py).

    team = await storage.config.patch(team_id, {"reports": {"channel": "C0ADZHLL76V"}}, actor="U123")

One transaction: the RFC 7396 merge patch is applied, the result validated (ConfigInvalid, and nothing changes,
when it is not), stored, audited, the team's report jobs made to follow it (`reports.jobs`, `reports.channel`,
`reports.timezone`), and the team's `version` bumped. Then every follower in this process is told at once
(`follow`: the report scheduler resyncs); every other process (another replica, the app while the command line
changes the config) sees the version move at its next look (reports/scheduler.py, every few seconds).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from settings import Settings
from storage.audit import AuditLog
from storage.db import NOW, Database
from storage.jobs import JobStore
from storage.merge_patch import merge_patch
from storage.team_config import validate_config
from storage.teams import Team, TeamNotFound, TeamStore

log = logging.getLogger(__name__)

Follower = Callable[[Team], Awaitable[None]]


class ConfigChanges:
    def __init__(self, db: Database, audit: AuditLog, teams: TeamStore, jobs: JobStore, settings: Settings) -> None:
        self.db = db
        self.audit = audit
        self.teams = teams
        self.jobs = jobs
        self.settings = settings
        self._followers: list[Follower] = []

    async def patch(self, team_id: str, patch: Any, actor: str) -> Team:
        """Change the team's config (see the module docstring); the team as stored. Raises ConfigInvalid or
        TeamNotFound and changes nothing."""
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT config FROM teams WHERE id = ?", (team_id,)) as cur:
                row = await cur.fetchone()
            if row is None:
                raise TeamNotFound(team_id)
            validated = validate_config(merge_patch(json.loads(row["config"]), patch))
            stored = validated.model_dump(mode="json", exclude_defaults=True)
            await conn.execute(
                f"UPDATE teams SET config = ?, updated_at = {NOW}, version = version + 1 WHERE id = ?",
                (json.dumps(stored, sort_keys=True), team_id),
            )
            await self.audit.record(conn, team_id, actor, "config.patch", {"patch": patch})
            team = await self.teams.get(team_id)
            await seed_report_jobs(self.jobs, team, self.settings, actor, conn=conn)
        for follower in list(self._followers):
            try:
                await follower(team)
            except Exception:  # the change is stored; a follower that failed catches up at its next look
                log.exception("a follower of the config change failed")
        return team

    def follow(self, follower: Follower) -> Callable[[], None]:
        """Call `follower(team)` after every change made in this process; returns what stops it."""
        self._followers.append(follower)

        def stop() -> None:
            if follower in self._followers:
                self._followers.remove(follower)

        return stop


async def seed_report_jobs(
    jobs: JobStore, team: Team, settings: Settings, actor: str = "system", *, conn: Any = None
) -> None:
    """The team's report jobs from its config: reports.jobs when set, else the seeded Morning and Evening reports;
    posting to the team's report channel in its time zone unless a job names its own (config wins over the env).
    Within `conn`'s transaction when given."""
    channel = team.report_channel(settings)
    timezone = team.timezone(settings)
    if team.config.reports.jobs is None:
        await jobs.seed_defaults(team.id, channel, timezone, actor, conn=conn)
    else:
        await jobs.sync(team.id, team.config.reports.jobs, channel, timezone, actor, conn=conn)
