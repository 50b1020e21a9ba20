"""The alerts behind a message that named them only by its title (Alertmanager's default Slack message,
"[FIRING:3] APIHighLatency (app-107 api-server warning)"), found in Prometheus.

Prometheus keeps a series for every pending and firing alert of its rules: `ALERTS{alertname, alertstate, <the
alert's labels>}`, and `ALERTS_FOR_STATE` whose value is when the alert became active (Unix seconds)
(https://prometheus.io/docs/prometheus/latest/configuration/alerting_rules/#inspecting-alerts-during-runtime).
The firing series of the alert's name whose label values include every value of the title are its alerts, each
with its full labels and its start. Through the team's Prometheus data source in Grafana (one instant query
each), so a Prometheus Grafana cannot reach, or an alert of another ruler, finds none: the caller says so.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from agent.toolbox import Toolbox, ToolCall
from alerts.model import Alert, fingerprint

QUERY = "grafana_query_prometheus"
HIDDEN = frozenset({"__name__", "alertstate"})
MAX_INSTANCES = 20


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


async def firing_instances(toolbox: Toolbox, alert: Alert) -> list[Alert]:
    """The firing alerts `alert` (read from a title) stands for, with their labels and start; [] when Prometheus
    has none that match (or cannot be asked)."""
    if not toolbox.has(QUERY) or not alert.name or alert.name == "alert":
        return []
    name = _quote(alert.name)
    alerts, starts = await toolbox.run(
        [
            ToolCall(QUERY, {"expr": f'ALERTS{{alertname="{name}",alertstate="firing"}}'}),
            ToolCall(QUERY, {"expr": f'ALERTS_FOR_STATE{{alertname="{name}"}}'}),
        ]
    )
    if not alerts.ok or not isinstance(alerts.data, dict):
        return []
    wanted = set(alert.title_values)
    active_since = _starts(starts.data if starts.ok and isinstance(starts.data, dict) else {})
    found: list[Alert] = []
    for row in alerts.data.get("series") or []:
        labels = {str(k): str(v) for k, v in (row.get("labels") or {}).items() if k not in HIDDEN}
        if not wanted <= set(labels.values()):
            continue
        key = fingerprint(labels)
        found.append(
            replace(
                alert,
                labels=labels,
                fingerprint=key,
                starts_at=active_since.get(key) or alert.starts_at,
                title_values=(),
                group_count=0,
            )
        )
    return found[:MAX_INSTANCES]


def _starts(data: dict[str, Any]) -> dict[str, datetime]:
    """fingerprint of the alert's labels -> when it became active (ALERTS_FOR_STATE's value)."""
    out: dict[str, datetime] = {}
    for row in data.get("series") or []:
        value = row.get("value")
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            continue
        labels = {str(k): str(v) for k, v in (row.get("labels") or {}).items() if k not in HIDDEN}
        out[fingerprint(labels)] = datetime.fromtimestamp(float(value), UTC)
    return out
