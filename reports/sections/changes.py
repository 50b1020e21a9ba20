"""Deploys beside the error numbers: commits pushed to the routed repos' default branches in the report's window
(recorded from GitHub push events or the commits list), as a listing of the Grafana section."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from reports.model import Item, Listing
from storage.github import iso

if TYPE_CHECKING:
    from skills.services import Services
    from storage.teams import Team

MAX_CHANGES = 8


async def changes_listing(services: Services, team: Team, start: datetime, end: datetime, tz: str) -> Listing | None:
    """The window's changes, newest first; None when no repo is routed or nothing was pushed."""
    repos = team.config.routing.github_repos
    if not repos:
        return None
    rows = [c for c in await services.storage.github.changes(repos, start, limit=50) if c.committed_at <= iso(end)]
    if not rows:
        return None
    zone = ZoneInfo(tz)
    items = []
    for c in rows[:MAX_CHANGES]:
        when = datetime.fromisoformat(c.committed_at.replace("Z", "+00:00")).astimezone(zone)
        repo = c.repo if len(repos) > 1 else ""
        detail = " ".join(p for p in (repo, f"by {c.author}" if c.author else "", f"at {when:%H:%M}") if p)
        items.append(Item(c.message[:100] or c.sha[:7], detail=detail, link=c.url, link_label=c.sha[:7]))
    note = f"{len(rows) - MAX_CHANGES} more" if len(rows) > MAX_CHANGES else ""
    return Listing("Deploys (pushes to the default branch)", items, note=note)
