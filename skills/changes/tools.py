"""The `recent_changes` tool: the team's deploys, pushes and Grafana annotations of a window, newest first.

Declared as the Amplitude tools are: a module-level handler beside its parameter model, bound to one team by
`build_tools`; read-only. Offered to both planners whatever is configured (the changes table is sitrep's own).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from skills.base import Tool
from skills.changes.recent import SOURCES, Sources, collect
from skills.results import bounded

if TYPE_CHECKING:
    from storage.teams import Team

NAME = "recent_changes"
MAX_HOURS = 24 * 14


class RecentChangesParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hours: int = Field(24, ge=1, le=MAX_HOURS, description="How far back from now (or from `end`), in hours")
    end: datetime | None = Field(None, description="End of the window (ISO 8601); default now")
    previews: bool = Field(False, description="Include Vercel preview deployments (production only by default)")
    sources: list[Literal["github", "vercel", "grafana"]] | None = Field(
        None, description="Only these sources (GitHub pushes, Vercel deployments, Grafana annotations); default all"
    )


async def recent_changes(services: Sources, team: Team, p: RecentChangesParams) -> dict[str, Any]:
    end = p.end or datetime.now(UTC)
    end = (end if end.tzinfo else end.replace(tzinfo=UTC)).astimezone(UTC)
    start = end - timedelta(hours=p.hours)
    window = await collect(services, team, start, end, previews=p.previews, sources=p.sources or SOURCES)
    rows = [c.to_dict() for c in window.changes]
    out: dict[str, Any] = {"count": len(rows), "hours": p.hours, "start": _iso(start), "end": _iso(end)}
    if window.unavailable:
        out["unavailable"] = window.unavailable
    if not rows:
        out["hint"] = (
            f"no deploy, push or annotation recorded in the last {p.hours} h (sources: "
            f"{', '.join(window.sources) or 'none'})"
        )
    return bounded(out, "changes", rows, hint="narrow the window with hours and end")


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def build_tools(services: Sources, team: Team) -> list[Tool]:
    async def handler(params: Any) -> Any:
        return await recent_changes(services, team, params)

    return [
        Tool(
            name=NAME,
            description=(
                "What changed, newest first: production deployments (Vercel, from the log drain), commits pushed to "
                "the routed repositories' default branches (GitHub) and Grafana annotations; each with source, kind, "
                "subject (repo, project or dashboard), ref (sha, deployment id), title, author, time and link. Use "
                'it to tie an error spike or a latency jump to the change that landed before it ("deployed 14 min '
                'before the 5xx jump"), and say so when nothing changed in the window.'
            ),
            params=RecentChangesParams,
            handler=handler,
            read_only=True,
        )
    ]
