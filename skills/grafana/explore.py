"""Grafana Explore deep links: the exact query, data source and time range of a result."""

from __future__ import annotations

import json
from urllib.parse import quote

from skills.grafana.timeutil import TimeRange, to_ms


def explore_url(
    base_url: str, uid: str, ds_type: str, expr: str, time_range: TimeRange, *, instant: bool = False
) -> str:
    """`{grafana}/explore?schemaVersion=1&panes=<urlencoded JSON>&orgId=1` (Grafana docs, "Generate Explore URLs
    from external tools": https://grafana.com/docs/grafana/latest/explore/get-started-with-explore/)."""
    query: dict = {"refId": "A", "expr": expr, "datasource": {"uid": uid, "type": ds_type}}
    if ds_type == "loki":
        query["queryType"] = "instant" if instant else "range"
        query["editorMode"] = "code"
    else:
        query["range"] = not instant
        query["instant"] = instant
        query["editorMode"] = "code"
    pane = {
        "a": {
            "datasource": uid,
            "queries": [query],
            "range": {"from": str(to_ms(time_range.start)), "to": str(to_ms(time_range.end))},
        }
    }
    panes = quote(json.dumps(pane, separators=(",", ":")), safe="")
    return f"{base_url.rstrip('/')}/explore?schemaVersion=1&panes={panes}&orgId=1"
