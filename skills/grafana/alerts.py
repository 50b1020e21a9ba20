"""Grafana-managed alerts: firing and pending rules with their instances, and silences from Alertmanager."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from skills.base import SkillError
from skills.grafana import rule_queries
from skills.grafana.explore import explore_url
from skills.grafana.results import clip
from skills.grafana.timeutil import TimeRange
from skills.results import bounded

if TYPE_CHECKING:
    from skills.grafana.api import GrafanaAPI

RULES_PATH = "/api/prometheus/grafana/api/v1/rules"
ALERTMANAGER_PATH = "/api/alertmanager/grafana/api/v2/alerts"
ACTIVE = ("firing", "pending")
MAX_INSTANCES = 5


async def active(client: GrafanaAPI) -> dict[str, Any]:
    """{firing, pending, rules_total, alerts: [{rule, state, ...}], silenced_total}, firing first."""
    rules_body, am_alerts, ds_types = await asyncio.gather(
        client.request("GET", RULES_PATH, not_found="this Grafana has no unified alerting API"),
        _alertmanager(client),
        _datasource_types(client),
    )
    data = rules_body.get("data") if isinstance(rules_body, dict) else None
    groups = (data.get("groups") if isinstance(data, dict) else None) or []
    suppressed = _suppressed_names(am_alerts)
    rows: list[dict[str, Any]] = []
    total = 0
    for group in groups:
        if not isinstance(group, dict):
            continue
        for rule in group.get("rules") or []:
            if not isinstance(rule, dict) or rule.get("type", "alerting") != "alerting":
                continue
            total += 1
            state = _rule_state(rule)
            if state in ACTIVE:
                rows.append(_row(client, group, rule, state, suppressed, ds_types))
    rows.sort(key=lambda r: (r["state"] != "firing", r.get("active_at") or "~"))
    envelope: dict[str, Any] = {
        "firing": sum(r["state"] == "firing" for r in rows),
        "pending": sum(r["state"] == "pending" for r in rows),
        "rules_total": total,
        "alerting_url": f"{client.base_url}/alerting/list",
    }
    if am_alerts is not None:
        envelope["silenced_total"] = sum(1 for a in am_alerts if _am_state(a) == "suppressed")
    if not rows:
        hint = (
            "no Grafana-managed alert rules exist yet: create some in Grafana (Alerting → Alert rules)"
            if not total
            else f"none of the {total} alert rules is firing or pending"
        )
        return dict(envelope, alerts=[], truncated=False, empty=True, hint=hint)
    return bounded(envelope, "alerts", rows, hint="too many active alerts to show: open alerting_url for all")


async def _alertmanager(client: GrafanaAPI) -> list[dict[str, Any]] | None:
    """Active alerts from Grafana's Alertmanager, or None when that API is unavailable (it only adds silences)."""
    try:
        body = await client.request("GET", ALERTMANAGER_PATH, params={"active": "true"})
    except SkillError:
        return None
    return [a for a in body if isinstance(a, dict)] if isinstance(body, list) else None


async def _datasource_types(client: GrafanaAPI) -> dict[str, str]:
    """uid -> type of every data source (cached by the client); {} when unavailable (types are then guessed)."""
    try:
        rows = await client.datasources_raw()
    except SkillError:
        return {}
    return {str(d.get("uid")): str(d.get("type") or "") for d in rows}


def _am_state(alert: dict[str, Any]) -> str:
    status = alert.get("status")
    return str(status.get("state") or "") if isinstance(status, dict) else ""


def _suppressed_names(am_alerts: list[dict[str, Any]] | None) -> dict[str, tuple[int, int]]:
    """alertname -> (suppressed, all) among Alertmanager's alerts."""
    counts: dict[str, tuple[int, int]] = {}
    for alert in am_alerts or []:
        name = str((alert.get("labels") or {}).get("alertname") or "")
        held, seen = counts.get(name, (0, 0))
        counts[name] = (held + (_am_state(alert) == "suppressed"), seen + 1)
    return counts


def _rule_state(rule: dict[str, Any]) -> str:
    state = str(rule.get("state") or "").lower()
    if state in ACTIVE:
        return state
    instance_states = {str(a.get("state") or "").lower() for a in rule.get("alerts") or [] if isinstance(a, dict)}
    if any(s.startswith(("alerting", "firing")) for s in instance_states):
        return "firing"
    if any(s.startswith("pending") for s in instance_states):
        return "pending"
    return state or "inactive"


def _row(
    client: GrafanaAPI,
    group: dict[str, Any],
    rule: dict[str, Any],
    state: str,
    suppressed: dict[str, tuple[int, int]],
    ds_types: dict[str, str],
) -> dict[str, Any]:
    annotations = rule.get("annotations") or {}
    instances = [a for a in rule.get("alerts") or [] if isinstance(a, dict)]
    active = [a for a in instances if str(a.get("state") or "").lower().startswith(("alerting", "firing", "pending"))]
    active_at = sorted(str(a["activeAt"]) for a in active if a.get("activeAt") and not a["activeAt"].startswith("0001"))
    name = str(rule.get("name") or "?")
    row: dict[str, Any] = {
        "rule": name,
        "state": state,
        "group": group.get("name"),
        "folder": group.get("file"),
        "labels": rule.get("labels") or {},
        "summary": clip(str(annotations.get("summary") or annotations.get("description") or ""), 300) or None,
        "active_at": active_at[0] if active_at else None,
        "instances": len(active),
        "health": rule.get("health"),
    }
    if rule.get("lastError"):
        row["last_error"] = clip(str(rule["lastError"]), 200)
    row["examples"] = [
        {"labels": a.get("labels") or {}, "state": a.get("state"), "value": clip(str(a.get("value") or ""), 120)}
        for a in active[:MAX_INSTANCES]
    ]
    held, seen = suppressed.get(name, (0, 0))
    if seen and held == seen:
        row["silenced"] = True
    queries = rule_queries.parse(rule.get("query"), rule.get("queriedDatasourceUIDs"))
    if queries:
        row["queries"] = [clip(q.expr, 300) for q in queries]
        first = next((q for q in queries if q.uid), None)
        ds_type = (ds_types.get(first.uid) or rule_queries.guess_type(first.expr)) if first else ""
        if first and ds_type in ("loki", "prometheus"):
            window = TimeRange.resolve("1h")
            row["explore_url"] = explore_url(client.base_url, first.uid, ds_type, first.expr, window)
    return row
