"""Plain trouble wording ("why did the front-end stop working?"), HTTP status codes of a path, and systems sitrep
cannot see ("my AWS Lambda has high latency").

Triage: the error rate and its change against the window before, the top error patterns, the firing alerts and
the slowest endpoint, all scoped to the subject when it matched (else overall, and the scope line says so).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from typing import Any

from agent.formatting import Section
from agent.rules import plays
from agent.rules.plays import PlayContext, count_queries, totals_by
from agent.rules.scope import ENDPOINT_LABELS
from agent.toolbox import ToolCall, ToolOutcome
from text.mrkdwn import code, escape, link, num, pct

CODE_LINES = 1000
STATUS_FIELDS = ("statusCode", "status", "status_code", "proxy_statusCode")
VISIBLE_HOW = {
    "AWS": "send its CloudWatch metrics to Prometheus (YACE or the CloudWatch exporter) or add Grafana's "
    "CloudWatch data source, and ship its logs to Loki (a Lambda extension or Firehose)",
    "GCP": "add Grafana's Google Cloud Monitoring data source or export its metrics to Prometheus, and ship its "
    "logs to Loki",
    "Azure": "add Grafana's Azure Monitor data source or export its metrics to Prometheus, and ship its logs to Loki",
}


async def triage(ctx: PlayContext) -> Section:
    section = Section(f"Triage ({ctx.when})")
    rate, alerts, slow = await asyncio.gather(plays.errors(ctx), scoped_alerts(ctx), _slowest(ctx))
    change = await _change(ctx)
    if rate.headline and change:
        rate.headline = f"{rate.headline} {change}"
    for part in (rate, alerts, slow):
        section.failures += part.failures
    section.headline = " ".join(p.headline for p in (rate, alerts, slow) if p.headline) or None
    section.lines = rate.lines + alerts.lines + slow.lines
    return section


async def _change(ctx: PlayContext) -> str:
    """ "Before: 0.4% (2 of 510)." from the same counts over the window just before this one."""
    previous = ctx.plan.window.previous_args()
    found = await ctx.selector()
    if previous is None or not isinstance(found, tuple):
        return ""
    label, selector = found
    total_q, errors_q = count_queries(ctx, label, selector)
    total, errs = await ctx.toolbox.run(
        [
            ToolCall("grafana_query_loki", {"query": total_q, **previous}),
            ToolCall("grafana_query_loki", {"query": errors_q, **previous}),
        ]
    )
    if not (total.ok and errs.ok):
        return ""
    n_total, n_err = sum(totals_by(total, label).values()), sum(totals_by(errs, label).values())
    if not n_total:
        return "The window before had no log lines."
    before = link(errs.data.get("explore_url"), pct(n_err, n_total))
    return f"The window before: {before} ({num(n_err)} of {num(n_total)})."


async def scoped_alerts(ctx: PlayContext) -> Section:
    """The alerts, and which of them mention the subject when the question names one."""
    section = await plays.alerts(ctx)
    scope = ctx.scope
    if not scope or not scope.names:
        return section
    o = next((x for x in ctx.toolbox.outcomes if x.call.name == "grafana_get_alerts" and x.ok), None)
    if o is None:
        return section
    words = {w.lower() for w in (*scope.names, *scope.values)}
    about = [a for a in o.data.get("alerts") or [] if isinstance(a, dict) and _mentions(a, words)]
    firing = o.data.get("firing", 0)
    if not about and firing:
        section.headline = f"No firing alert mentions {escape(scope.name)} ({num(firing)} firing elsewhere)."
    elif about:
        section.headline = f"*{num(len(about))} alert{'s' if len(about) != 1 else ''} about {escape(scope.name)}*."
    return section


def _mentions(alert: dict[str, Any], words: set[str]) -> bool:
    text = json.dumps({k: alert.get(k) for k in ("rule", "labels", "summary")}, default=str).lower()
    return any(re.search(rf"(?<![\w-]){re.escape(w)}(?![\w])", text) for w in words if w)


async def _slowest(ctx: PlayContext) -> Section:
    """The endpoint with the highest p95 (a histogram) or 0.95 quantile (a summary), scoped when possible."""
    section = Section("Slowest endpoint")
    found = await ctx.toolbox.run(
        [
            ToolCall("grafana_list_metric_names", {"search": "duration"}),
            ToolCall("grafana_list_metric_names", {"search": "latency"}),
        ]
    )
    names = sorted({n for o in found if o.ok for n in o.data.get("names") or [] if isinstance(n, str)})
    if not names:
        return section
    metric, _, _ = plays.latency_query(names)
    labels = await ctx.call("grafana_list_label_values", match=metric)
    have = set(labels.data.get("values") or []) if labels.ok else set()
    endpoint = next((lbl for lbl in ENDPOINT_LABELS if lbl in have), None)
    if endpoint is None:
        return section
    expr = slowest_query(metric, endpoint, ctx.scope.prom_matcher if ctx.scope else None, "quantile" in have)
    o = await ctx.call("grafana_query_prometheus", expr=expr, **ctx.range)
    if not o.ok:
        section.failures.append(o.error or "")
        return section
    rows = [r for r in o.data.get("series") or [] if isinstance(r, dict) and isinstance(r.get("max"), (int, float))]
    if not rows:
        return section
    rows.sort(key=lambda r: -r["max"])
    top = rows[0]
    where = escape(str((top.get("labels") or {}).get(endpoint, "?")))
    section.headline = (
        f"Slowest endpoint: *{where}* (p95 up to {plays.duration(top.get('max'), metric)}, now "
        f"{plays.duration(top.get('last'), metric)})."
    )
    section.lines.append(f"• {link(o.data.get('explore_url'), f'p95 by {endpoint}')}:")
    for r in rows[:5]:
        lbl = escape(str((r.get("labels") or {}).get(endpoint, "?")))
        section.lines.append(
            f"    ◦ {lbl}: max {plays.duration(r.get('max'), metric)}, now {plays.duration(r.get('last'), metric)}"
        )
    return section


def slowest_query(metric: str, endpoint: str, matcher: str | None, summary: bool) -> str:
    """PromQL of the p95 per endpoint: from a histogram's buckets, a summary's 0.95 quantile, or the metric itself."""
    where = f"{{{matcher}}}" if matcher else ""
    if metric.endswith("_bucket"):
        return f"histogram_quantile(0.95, sum by (le, {endpoint}) (rate({metric}{where}[5m])))"
    if summary:
        sel = ", ".join(p for p in ('quantile="0.95"', matcher) if p)
        return f"max by ({endpoint}) ({metric}{{{sel}}})"
    return f"max by ({endpoint}) ({metric}{where})"


async def codes(ctx: PlayContext) -> Section:
    """HTTP status codes in the (scoped, filtered) log lines: a tally of the newest lines."""
    section = Section(f"Status codes ({ctx.when})")
    ctx.log_note(section)
    found = await ctx.selector()
    if isinstance(found, ToolOutcome):
        section.failures.append(found.error or "")
        return section
    if found is None:
        section.headline = f"No log lines in Loki {ctx.within}: {plays.NO_LOGS}."
        return section
    selector = found[1]
    base = " ".join(p for p in (selector, ctx.base_filters) if p)
    by = ", ".join(STATUS_FIELDS)
    counted_q = f'sum by ({by}) (count_over_time({base} | json | __error__="" [{ctx.step}s]))'
    counted, sample = await ctx.toolbox.run(
        [
            ToolCall("grafana_query_loki", {"query": counted_q, **ctx.range}),
            ToolCall("grafana_query_loki", {"query": base, **ctx.range, "limit": CODE_LINES}),
        ]
    )
    what = f"for {escape(', '.join(ctx.plan.subject.paths))} " if ctx.plan.subject.paths else ""
    tally: Counter[str] = Counter()
    if counted.ok:
        for row in counted.data.get("series") or []:
            labels = row.get("labels") or {}
            code_ = next((str(labels[f]) for f in STATUS_FIELDS if labels.get(f)), None)
            if code_ and re.fullmatch(r"[1-5]\d\d", code_):
                tally[code_] += int(plays.series_total(row))
    if tally:
        parts = [f"*{c}* ×{num(n)}" for c, n in sorted(tally.items())]
        section.headline = f"Status codes {what}{ctx.within}: " + ", ".join(parts) + "."
        url = counted.data.get("explore_url")
        section.lines.append(f"• {link(url, f'{num(sum(tally.values()))} JSON log lines')} with a status field.")
        return section
    if not sample.ok:
        section.failures += [o.error or "" for o in (counted, sample) if not o.ok]
        return section
    lines = [r for r in sample.data.get("lines") or [] if isinstance(r, dict)]
    tally = Counter(c for r in lines if (c := status_code(str(r.get("line", "")))))
    url = sample.data.get("explore_url")
    if not tally:
        section.headline = f"No status codes in {num(len(lines))} log lines {what}{ctx.within}."
        section.lines.append(f"• {link(url, 'Open the query in Explore')}")
        return section
    newest = f"the newest {num(len(lines))}" if sample.data.get("truncated") else f"{num(len(lines))}"
    parts = [f"*{c}* ×{num(n)}" for c, n in sorted(tally.items())]
    section.headline = f"Status codes {what}{ctx.within} (in {newest} lines): " + ", ".join(parts) + "."
    section.lines.append(f"• From {link(url, f'{newest} log lines')} with a status code.")
    return section


def status_code(line: str) -> str | None:
    """The HTTP status of a log line: statusCode/status/proxy.statusCode of a JSON line, else a 3-digit word."""
    text = line.strip()
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            nested = obj.get("proxy")
            proxy: dict[str, Any] = nested if isinstance(nested, dict) else {}
            for value in (obj.get("statusCode"), obj.get("status"), obj.get("status_code"), proxy.get("statusCode")):
                if isinstance(value, (int, str)) and re.fullmatch(r"[1-5]\d\d", str(value)):
                    return str(value)
            text = str(obj.get("message") or "")
    m = re.search(r"(?<![\w.:/-])([1-5]\d\d)(?![\w.%])", text)
    return m.group(1) if m else None


async def external(ctx: PlayContext) -> tuple[Section, bool]:
    """(the answer about a system no integration covers, whether any data about it was found)."""
    name = str(ctx.plan.subject.external)
    vendor = name.split()[0]
    words = {"AWS": ("aws", "cloudwatch"), "GCP": ("gcp", "stackdriver"), "Azure": ("azure",)}.get(
        vendor, (name.lower().split()[0],)
    )
    calls = [ToolCall("grafana_find_metrics", {"keyword": w, "limit": 10}) for w in words]
    calls += [ToolCall("grafana_resolve_subject", {"name": w, "since": "24h"}) for w in words]
    product = name.split()[-1].lower()
    if ctx.toolbox.has("amplitude_list_events"):
        calls.append(ToolCall("amplitude_list_events", {"name_contains": product}))
    outcomes = await ctx.toolbox.run([c for c in calls if ctx.toolbox.has(c.name)])
    seen: list[str] = []
    for o in outcomes:
        if not o.ok:
            continue
        d = o.data
        seen += [f"Prometheus metric {code(m['name'])}" for m in d.get("metrics") or [] if isinstance(m, dict)][:3]
        seen += [
            f"Loki/Prometheus label {escape(m['label'])}={escape(', '.join(m['values'][:3]))}"
            for m in d.get("matches") or []
        ][:3]
        seen += [
            f"Amplitude event {code(e['name'])}"
            for e in d.get("event_types") or []
            if isinstance(e, dict) and e.get("name")
        ][:3]
    section = Section(escape(name))
    if seen:
        section.headline = f"sitrep has some data about {escape(name)}: " + "; ".join(seen[:5]) + "."
        return section, True
    how = VISIBLE_HOW.get(vendor, "send its metrics to Prometheus or its logs to Loki in this Grafana")
    section.headline = (
        f"I can't see {escape(name)}: no Prometheus metric, Loki stream or Amplitude event mentions "
        f"{escape(' or '.join(words))}, so I won't show another system's numbers for it. To make it visible, {how}; "
        "then ask again."
    )
    section.failures += [o.error or "" for o in outcomes if not o.ok]
    return section, False


INVENTORY_LABELS = {
    "namespaces": ("namespace",),
    "pods": ("pod",),
    "services": ("service_name", "service", "app", "job"),
    "apps": ("app", "service_name"),
    "applications": ("app", "service_name"),
    "jobs": ("job",),
    "containers": ("container",),
    "sources": ("source",),
}


async def inventory(ctx: PlayContext) -> Section:
    """ "List the namespaces": the values of the matching labels in Loki and in Prometheus, as they exist."""
    word = ctx.plan.inventory or "services"
    section = Section(f"{word.title()} (the last day)")
    labels = INVENTORY_LABELS[word]
    found = await ctx.call("grafana_list_loki_labels", **_since_at_least_a_day(ctx))
    loki_labels = [n for n in labels if n in (found.data.get("labels") or [])] if found.ok else []
    calls = [
        ToolCall("grafana_list_loki_label_values", {"label": n, **_since_at_least_a_day(ctx)}) for n in loki_labels
    ]
    calls += [ToolCall("grafana_list_label_values", {"label": n}) for n in labels]
    outcomes = await ctx.toolbox.run(calls)
    parts = []
    for call, o in zip(calls, outcomes, strict=True):
        if not o.ok:
            section.failures.append(o.error or "")
            continue
        values = [str(v) for v in o.data.get("values") or []]
        if values:
            where = "Loki" if call.name == "grafana_list_loki_label_values" else "Prometheus"
            shown = ", ".join(escape(v) for v in values[:20]) + (" …" if len(values) > 20 else "")
            parts.append(f"{where} {escape(call.args['label'])}: {num(len(values))}")
            section.lines.append(f"• {where} label *{escape(call.args['label'])}* ({num(len(values))}): {shown}")
    if not found.ok:
        section.failures.append(found.error or "")
    section.headline = (
        f"{word.title()} as labelled in Grafana: " + "; ".join(parts) + "."
        if parts
        else f"No Loki stream or Prometheus series carries a {' or '.join(labels)} label."
    )
    return section


def _since_at_least_a_day(ctx: PlayContext) -> dict[str, str]:
    args = ctx.range
    return args if "start" in args or ctx.plan.window.hours >= 24 else {"since": "24h"}
