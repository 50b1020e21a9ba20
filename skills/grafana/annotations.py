"""Grafana annotations as changes: `GET /api/annotations?from=&to=&limit=&type=annotation` (Grafana's HTTP API).

Grafana answers a JSON array, newest first, of {id, dashboardUID, panelId, time, timeEnd (ms since the epoch),
text, tags, login, email, ...}; `type=annotation` leaves out the ones alert state changes write. An annotation on
a dashboard links to that dashboard at its time; an organization annotation (no dashboard) has no page of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from storage.changes import GRAFANA, Change

if TYPE_CHECKING:
    from skills.grafana.api import GrafanaAPI

PATH = "/api/annotations"
LIMIT = 100
AROUND = timedelta(minutes=30)  # the dashboard link shows this much either side of the annotation
TEXT_MAX = 300


async def changes_between(client: GrafanaAPI, start: datetime, end: datetime, limit: int = LIMIT) -> list[Change]:
    """The annotations made in [start, end], newest first, as changes (SkillError when Grafana refuses)."""
    params = {
        "from": str(int(start.timestamp() * 1000)),
        "to": str(int(end.timestamp() * 1000)),
        "limit": str(limit),
        "type": "annotation",
    }
    body = await client.request("GET", PATH, params=params, upstream="Grafana annotations")
    rows = [a for a in body if isinstance(a, dict)] if isinstance(body, list) else []
    out = [c for c in (as_change(client.public_url, a) for a in rows) if c is not None and start <= c.at <= end]
    return sorted(out, key=lambda c: c.at, reverse=True)


def as_change(public_url: str, row: dict[str, Any]) -> Change | None:
    """One annotation row as a change; None without a usable time."""
    ms = row.get("time")
    if isinstance(ms, bool) or not isinstance(ms, int | float) or ms <= 0:
        return None
    at = datetime.fromtimestamp(ms / 1000, UTC)
    text = " ".join(str(row.get("text") or "").split())[:TEXT_MAX]
    tags = [str(t) for t in row.get("tags") or [] if isinstance(t, str)]
    dashboard = str(row.get("dashboardUID") or "")
    url = None
    if dashboard:
        window = {
            "from": str(int((at - AROUND).timestamp() * 1000)),
            "to": str(int((at + AROUND).timestamp() * 1000)),
        }
        url = f"{public_url}/d/{dashboard}?{urlencode(window)}"
    return Change(
        source=GRAFANA,
        subject=dashboard or ", ".join(tags) or "annotation",
        ref=str(row.get("id") or ""),
        kind="annotation",
        at=at,
        title=text or ", ".join(tags),
        author=str(row.get("login") or ""),
        url=url,
        via="api",
    )
