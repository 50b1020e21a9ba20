"""General metrics questions: "CPU per namespace", "memory of robusta-runner over 24 hours", "what CPU metrics do
we collect", or a metric name / PromQL in backticks run as given once its metric names are known to exist.

Metrics are found by keyword (grafana_find_metrics: names, type and help); the query is a range query grouped by
the label the question names, with at most ~24 points so every series comes back with its values.
"""

from __future__ import annotations

import math
import re
from typing import Any

from agent.formatting import Section, labels_text
from agent.rules.plays import PlayContext
from agent.toolbox import ToolCall, ToolOutcome
from text.mrkdwn import code, escape, link, num
from text.sparkline import sparkline

POINTS = 23
SERIES_SHOWN = 8
CANDIDATES = 3
PROMQL_WORDS = {
    "sum", "avg", "min", "max", "count", "by", "without", "rate", "irate", "increase", "histogram_quantile",
    "topk", "bottomk", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or", "unless",
    "abs", "ceil", "floor", "round", "delta", "deriv", "predict_linear", "avg_over_time", "max_over_time",
    "min_over_time", "sum_over_time", "count_over_time", "quantile_over_time", "label_replace", "vector",
    "scalar", "time", "clamp_min", "clamp_max", "absent", "changes", "resets", "sort", "sort_desc", "le",
    "quantile", "stddev", "stdvar", "count_values", "inf", "nan",
}  # fmt: skip


def metric_names_in(expr: str) -> list[str]:
    """The metric names a PromQL expression reads (label matchers, ranges, grouping labels and strings left out)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\{[^}]*\}|\[[^\]]*\]', " ", expr)
    text = re.sub(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)", " ", text)
    names = re.findall(r"(?<![\w:.])([A-Za-z_:][A-Za-z0-9_:]*)(?![\w:])(?!\s*\()", text)
    return list(dict.fromkeys(n for n in names if n.lower() not in PROMQL_WORDS))


def query_for(metric: dict[str, Any], matcher: str | None, group: str | None) -> str:
    """PromQL for a found metric: counters as a rate, histograms as p95, gauges as they are; summed by `group`."""
    name, kind = str(metric["name"]), str(metric.get("type") or "unknown")
    where = f"{{{matcher}}}" if matcher else ""
    by = f" by ({group})" if group else ""
    if kind == "histogram":
        return f"histogram_quantile(0.95, sum by (le{', ' + group if group else ''}) (rate({name}_bucket{where}[5m])))"
    if kind == "counter" or name.endswith("_total"):
        return f"sum{by} (rate({name}{where}[5m]))"
    return f"sum{by} ({name}{where})"


def unit_value(value: Any, metric: str, expr: str) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "n/a"
    if "bytes" in metric:
        for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
            if abs(value) >= size:
                return f"{value / size:.1f} {unit}"
        return f"{value:.0f} B"
    if "cpu" in metric and "seconds" in metric and "rate(" in expr:
        return f"{value:.3g} cores"
    if "seconds" in metric and "histogram_quantile" in expr:
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    return num(value)


async def metrics(ctx: PlayContext) -> Section:
    plan = ctx.plan
    if plan.subject.promql:
        return await _as_given(ctx, plan.subject.promql)
    keyword = plan.metric_keyword
    section = Section(f"Metrics ({ctx.when})")
    if not keyword:
        section.headline = (
            "Which metric? Name a keyword (cpu, memory, restarts, lag, queue, connections) or put a metric "
            "name or PromQL in backticks."
        )
        return section
    found = await ctx.call("grafana_find_metrics", keyword=keyword)
    if not found.ok:
        section.failures.append(found.error or "")
        return section
    rows = [m for m in found.data.get("metrics") or [] if isinstance(m, dict)]
    if not rows:
        section.headline = (
            f"Prometheus has no metric about {code(keyword)} (searched {found.data.get('total_metrics', 0)} names)."
        )
        return section
    if plan.list_metrics:
        section.title = f"Metrics about {escape(keyword)}"
        section.headline = f"{num(len(rows))} {escape(keyword)} metric{'s' if len(rows) != 1 else ''} in Prometheus."
        for m in rows[:15]:
            help_text = f": {escape(str(m.get('help'))[:120])}" if m.get("help") else ""
            section.lines.append(f"• {code(m['name'])} ({escape(str(m.get('type')))}){help_text}")
        return section
    metric = await _pick(ctx, rows)
    matcher = ctx.scope.prom_matcher if ctx.scope else None
    group = plan.subject.group_by
    if not group and ctx.scope and ctx.scope.found and matcher and "=~" in matcher:
        group = ctx.scope.prom_label
    if not group and plan.subject.ranking:
        group = "pod"  # "what uses the most memory": per pod, highest first
    if ctx.scope and ctx.scope.found and not matcher:
        section.lines.append(f"• No Prometheus series is labelled {escape(ctx.scope.name)}: these are all series.")
    expr = query_for(metric, matcher, group)
    return await _run(ctx, section, expr, str(metric["name"]), metric)


async def _pick(ctx: PlayContext, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The first candidate that carries the label the question groups or scopes by; else the best-ranked one."""
    label = ctx.plan.subject.group_by or (ctx.scope.prom_label if ctx.scope else None)
    candidates = rows[:CANDIDATES]
    if not label or len(candidates) == 1:
        return candidates[0]
    checks = await ctx.toolbox.run(
        [ToolCall("grafana_list_label_values", {"label": label, "match": _series(m)}) for m in candidates]
    )
    for m, o in zip(candidates, checks, strict=True):
        if o.ok and o.data.get("values"):
            return m
    return candidates[0]


def _series(metric: dict[str, Any]) -> str:
    names = metric.get("series_names") or []
    return str(names[0]) if names else str(metric["name"])


def _step(ctx: PlayContext) -> str:
    w = ctx.plan.window
    seconds = (w.end - w.start).total_seconds() if w.start and w.end else w.hours * 3600
    return f"{max(15, math.ceil(seconds / POINTS))}s"


async def _as_given(ctx: PlayContext, expr: str) -> Section:
    section = Section(f"Query ({ctx.when})")
    wanted = metric_names_in(expr)
    if not wanted:
        section.headline = f"{code(expr)} reads no metric: put a metric name or PromQL in backticks."
        return section
    checks = await ctx.toolbox.run(
        [ToolCall("grafana_list_metric_names", {"search": f"^{re.escape(n)}$"}) for n in wanted]
    )
    missing = []
    for name, o in zip(wanted, checks, strict=True):
        if not o.ok:
            section.failures.append(o.error or "")
            return section
        if name not in (o.data.get("names") or []):
            missing.append(name)
    if missing:
        near = await ctx.call("grafana_find_metrics", keyword=missing[0].split("_")[0], limit=5)
        names = [m["name"] for m in near.data.get("metrics") or []] if near.ok else []
        hint = f" Similar names: {', '.join(code(n) for n in names)}." if names else ""
        section.headline = (
            f"Prometheus has no metric {', '.join(code(n) for n in missing)}, so I did not run {code(expr)}.{hint}"
        )
        return section
    return await _run(ctx, section, expr, wanted[0], None)


async def _run(ctx: PlayContext, section: Section, expr: str, name: str, metric: dict[str, Any] | None) -> Section:
    o = await ctx.call("grafana_query_prometheus", expr=expr, **ctx.range, step=_step(ctx))
    if not o.ok:
        section.failures.append(o.error or "")
        return section
    return render_series(section, o, expr, name, metric, ctx.plan.window.phrase)


def render_series(
    section: Section, o: ToolOutcome, expr: str, name: str, metric: dict[str, Any] | None, within: str
) -> Section:
    rows = [r for r in o.data.get("series") or [] if isinstance(r, dict)]
    url = o.data.get("explore_url")
    kind = f", {metric.get('type')}" if metric and metric.get("type") else ""
    if not rows:
        section.headline = f"No data for {code(expr, 100)} {escape(within)}."
        section.lines.append(f"• {link(url, 'Open the query in Explore')}")
        return section
    first = rows[0]

    def v(x: Any) -> str:
        return unit_value(x, name, expr)

    who = escape(labels_text(first.get("labels") or {}))
    lead = f"{code(name)}{' for ' + who if who != 'all' else ''}"
    span = f"min {v(first.get('min'))}, max {v(first.get('max'))} {escape(within)}"
    section.headline = f"{lead} is *{v(first.get('last'))}* now ({span})."
    section.lines.append(f"• {link(url, expr if len(expr) <= 90 else name)} ({num(len(rows))} series{escape(kind)}):")
    for r in rows[:SERIES_SHOWN]:
        values = [p[1] for p in r.get("values") or [] if isinstance(p, list) and len(p) == 2]
        spark = f" `{sparkline(values)}`" if values else ""
        section.lines.append(
            f"    ◦ {escape(labels_text(r.get('labels') or {}))}: now {v(r.get('last'))}, min {v(r.get('min'))}, "
            f"max {v(r.get('max'))}{spark}"
        )
    if metric and metric.get("help"):
        section.lines.append(f"• {code(name)}: {escape(str(metric['help'])[:160])}")
    return section
