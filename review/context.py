"""Production context for the routes a pull request touches, from the Grafana and Amplitude skills' own tools.

For each touched Next.js route (review/nextjs.py): the error lines in Loki for that path in the last
24 h with the top error pattern (loki_error_patterns over the discovered stream selector, filtered to the
path; dynamic segments match any value), p95 latency when a latency histogram carries a route label, and the
tracking-plan events the code emits in Amplitude over 7 days (path-filtered with a glob for `API Error`).
Every number carries the link its tool returned. All calls go through one Toolbox, concurrently.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from agent.toolbox import Toolbox, ToolCall
from reports.sections import discovery
from skills.amplitude.snippet import EVENT_NAMES
from skills.base import SkillError
from skills.github.diff import FilePatch
from skills.grafana import prometheus
from skills.grafana.patterns import ERROR_FILTER
from skills.grafana.skill import GrafanaSkill
from skills.nextjs import Route, routes_for

log = logging.getLogger(__name__)

MAX_ROUTES = 5
MAX_AMPLITUDE_CALLS = 5
SINCE = "24h"
ROUTE_LABELS = ("route", "http_route", "path", "handler", "endpoint")
_TRACK = re.compile(r"\btrack\(\s*['\"`](" + "|".join(re.escape(n) for n in EVENT_NAMES) + r")['\"`]")


def static_prefix(route: Route) -> str:
    """The route up to its first dynamic segment: what an Amplitude `contains` filter can match."""
    return route.path.split("[", 1)[0]


def events_for(route: Route, fp: FilePatch | None) -> list[str]:
    """The tracking-plan events this route's code emits, and API Error for any API route."""
    found = list(dict.fromkeys(_TRACK.findall(fp.added_text if fp else "")))
    if route.kind == "api" and "API Error" not in found:
        found.append("API Error")
    return found


Discovered = tuple[str | None, tuple[str, str] | None, str]  # Loki selector, (latency metric, route label), note


async def production_context(
    toolbox: Toolbox, grafana: GrafanaSkill | None, files: list[FilePatch], discovered: Discovered | None = None
) -> tuple[list[dict[str, Any]], str]:
    """([per-route context], a note when a source was unavailable). Never raises.

    `discovered` is grafana_discovery's result when the caller started it early (beside reading the PR)."""
    routes = routes_for([f.path for f in files if f.status != "removed"])[:MAX_ROUTES]
    if not routes:
        return [], ""
    by_path = {f.path: f for f in files}
    selector, latency, note = discovered if discovered is not None else await grafana_discovery(grafana)
    amplitude_left = MAX_AMPLITUDE_CALLS if toolbox.has("amplitude_query_events") else 0
    jobs = []
    for route in routes:
        events = events_for(route, by_path.get(route.file))[: max(0, amplitude_left)]
        amplitude_left -= len(events)
        jobs.append(_route_context(toolbox, route, selector, latency, events))
    if not toolbox.has("amplitude_query_events"):
        note = "; ".join(n for n in (note, "Amplitude is not configured, so no product events") if n)
    return list(await asyncio.gather(*jobs)), note


async def grafana_discovery(grafana: GrafanaSkill | None) -> Discovered:
    """What the Loki and Prometheus queries need (cached per Grafana client); never raises."""
    if grafana is None or not grafana.configured:
        return None, None, "Grafana is not configured, so no production errors or latency"
    try:
        found, _ = await discovery.known(grafana.client, SINCE)
    except SkillError as exc:
        return None, None, f"Grafana: {exc.message}"
    except Exception:  # production context is a bonus: never the reason a review fails
        log.exception("Grafana discovery for a review failed")
        return None, None, "Grafana could not be asked (see sitrep's log)"
    if found.selector is None:
        return None, None, "Loki has no log streams in the last 24 h (is the Vercel log drain set up?)"
    latency = None
    if found.latency_metric and found.prometheus_uid:
        try:
            labels = await prometheus.label_values(grafana.client, None, found.latency_metric, uid=found.prometheus_uid)
            names = labels.get("names") or labels.get("values") or []
            label = next((n for n in ROUTE_LABELS if n in names), None)
            if label:
                latency = (found.latency_metric, label)
        except (SkillError, AttributeError, TypeError) as exc:
            log.info("no route label on the latency histogram: %s", exc)
    return found.selector, latency, ""


async def _route_context(
    toolbox: Toolbox, route: Route, selector: str | None, latency: tuple[str, str] | None, events: list[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {"route": route.display, "file": route.file, "errors": None, "p95": None, "events": []}
    calls: list[ToolCall] = []
    if selector:
        query = f"{selector} |~ `{route.log_regex}` {ERROR_FILTER}"
        calls.append(ToolCall("grafana_loki_error_patterns", {"query": query, "since": SINCE, "top": 3}))
    if latency:
        metric, label = latency
        promql_re = re.sub(r"\[\[?(?:\.\.\.)?[^\]]+\]\]?", "[^/]+", route.path)
        expr = f'histogram_quantile(0.95, sum by (le) (rate({metric}{{{label}=~"{promql_re}"}}[{SINCE}])))'
        calls.append(ToolCall("grafana_query_prometheus", {"expr": expr}))
    for event in events:
        args: dict[str, Any] = {"event_type": event, "days": 7}
        if event == "API Error":  # Amplitude has no regex filter: narrow with contains, match the route in code
            args["filters"] = [{"prop": "endpoint", "op": "contains", "values": [static_prefix(route)]}]
            args["group_by"] = ["endpoint"]
            args["top"] = 50
        calls.append(ToolCall("amplitude_query_events", args))
    outcomes = await toolbox.run([c for c in calls if toolbox.has(c.name)])
    for o in outcomes:
        if not o.ok:
            out.setdefault("notes", []).append(f"{o.call.name.split('_', 1)[0].title()}: {o.error}")
            continue
        data = o.data or {}
        if o.call.name == "grafana_loki_error_patterns":
            patterns = data.get("patterns") or []
            top = patterns[0] if patterns else {}
            out["errors"] = {
                "count": int(data.get("lines_scanned") or 0),
                "top_pattern": top.get("pattern"),
                "top_count": int(top.get("count") or 0),
                "example": top.get("example"),
                "link": data.get("explore_url"),
            }
        elif o.call.name == "grafana_query_prometheus":
            series = data.get("series") or []
            value = series[0].get("value") if series else None
            if isinstance(value, (int, float)) and latency is not None:
                unit = 0.001 if "milli" in latency[0] or "_ms" in latency[0] else 1.0
                out["p95"] = {"seconds": value * unit, "link": data.get("explore_url")}
        else:
            total = int(data.get("total") or 0)
            if o.call.args.get("group_by"):
                rows = data.get("series") or []
                total = sum(int(r.get("total") or 0) for r in rows if route.matches(str(r.get("label") or "") + " "))
            out["events"].append({"event": o.call.args["event_type"], "total": total, "link": data.get("link")})
    return out
