"""The fake Grafana's annotations: `GET /api/annotations` as Grafana's HTTP API documents it.

Query parameters `from` and `to` (ms since the epoch, optional), `limit` (default 100), `type` (`alert` or
`annotation`), `tags` (repeated; an annotation must carry every one unless `matchAny=true`), `dashboardUID`.
An annotation matches when its span [time, timeEnd] overlaps [from, to]. The answer is a JSON array, newest first.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web


def annotation(
    id: int, time_ms: int, text: str, *, tags: list[str] | None = None, dashboard_uid: str = "", login: str = "admin"
) -> dict[str, Any]:
    """A row as Grafana stores and answers it (alertId 0: made by a person or the API, not by an alert)."""
    return {
        "id": id,
        "alertId": 0,
        "alertName": "",
        "dashboardId": 0,
        "dashboardUID": dashboard_uid or None,
        "panelId": 0,
        "userId": 1,
        "newState": "",
        "prevState": "",
        "created": time_ms,
        "updated": time_ms,
        "time": time_ms,
        "timeEnd": time_ms,
        "text": text,
        "tags": tags or [],
        "login": login,
        "email": f"{login}@example.com",
        "avatarUrl": "/avatar/0",
        "data": {},
    }


def find(rows: list[dict[str, Any]], query: Any) -> list[dict[str, Any]]:
    def number(name: str) -> int | None:
        value = query.get(name)
        return int(value) if value not in (None, "") else None

    start, end, limit = number("from"), number("to"), number("limit") or 100
    kind = query.get("type")
    tags = query.getall("tags", [])
    any_tag = query.get("matchAny") == "true"
    out = []
    for row in rows:
        if start is not None and int(row.get("timeEnd") or row["time"]) < start:
            continue
        if end is not None and int(row["time"]) > end:
            continue
        if kind == "annotation" and row.get("alertId"):
            continue
        if kind == "alert" and not row.get("alertId"):
            continue
        if tags and not (any if any_tag else all)(t in (row.get("tags") or []) for t in tags):
            continue
        if query.get("dashboardUID") and row.get("dashboardUID") != query["dashboardUID"]:
            continue
        out.append(row)
    return sorted(out, key=lambda r: r["time"], reverse=True)[:limit]


async def handle(request: web.Request, rows: list[dict[str, Any]]) -> web.Response:
    try:
        return web.json_response(find(rows, request.query))
    except ValueError:
        return web.json_response({"message": "bad request data"}, status=400)
