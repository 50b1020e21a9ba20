"""What the rule-based planner does for each intent: tool calls (concurrent where independent) and a Section.

Loki selectors are discovered (grafana_list_loki_labels), never guessed; identical discovery calls from several
intents run once (the toolbox's repeat guard). Every number goes out with the link of the query it came from.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.formatting import Section, labels_text
from agent.rules.planner import Plan
from agent.rules.scope import Scope, endpoint_label, path_matcher
from agent.rules.subject import line_filters
from agent.toolbox import Toolbox, ToolCall, ToolOutcome
from skills.grafana.latency import p95_query, pick_metric
from skills.grafana.loki import SELECTOR_LABELS
from skills.grafana.patterns import ERROR_FILTER
from skills.grafana.timeutil import TimeRange
from text.mrkdwn import code, escape, link, num, pct, quantity

if TYPE_CHECKING:
    from agent.services import Services
    from skills.base import Readiness
    from storage.teams import Team

TOP_PATTERNS = 5
LOG_LINES = 20
LOG_LINES_SHOWN = 10
# The full readiness table (with the Slack and scheduled-report rows), handed down by whoever asks the agent.
ReadinessTable = Callable[["Team"], Awaitable[list["Readiness"]]]

NO_LOGS = "the Vercel log drain may not be configured, or nothing was logged"


@dataclass
class PlayContext:
    toolbox: Toolbox
    plan: Plan
    services: Services | None = None
    team: Team | None = None
    scope: Scope | None = None
    readiness: ReadinessTable | None = None

    @property
    def since(self) -> str:
        return self.plan.window.since

    @property
    def range(self) -> dict[str, str]:
        """The window as tool arguments: since=… or start/end."""
        return self.plan.window.range_args()

    @property
    def step(self) -> int:
        """The step query_loki uses for this window: one count_over_time bucket per point."""
        args = self.range
        return TimeRange.resolve(args.get("since"), args.get("start"), args.get("end")).step()

    @property
    def base_filters(self) -> str:
        """Line filters for paths and quoted terms (they narrow every count)."""
        sub = self.plan.subject
        return " ".join(line_filters(type(sub)(paths=sub.paths, terms=sub.terms)))

    @property
    def error_filter(self) -> str:
        """What makes a line an error: the status codes asked about, else the error-ish words."""
        sub = self.plan.subject
        codes = line_filters(type(sub)(codes=sub.codes))
        return " ".join(codes) if codes else ERROR_FILTER

    @property
    def scoped(self) -> bool:
        return bool(self.scope and self.scope.loki_selector) or bool(self.base_filters) or bool(self.plan.subject.codes)

    @property
    def when(self) -> str:
        """The window as a title: "the last hour"."""
        return self.plan.window.label

    @property
    def within(self) -> str:
        """The window in a sentence: "in the last hour", "since 06:00 UTC"."""
        return self.plan.window.phrase

    async def call(self, name: str, **args: Any) -> ToolOutcome:
        return await self.toolbox.call(ToolCall(name, args))

    def log_note(self, section: Section) -> None:
        """Say so when the subject matched only Prometheus series: the log numbers are then of every stream."""
        scope = self.scope
        if scope and scope.found and not scope.loki_selector:
            note = f"• No Loki stream is labelled {escape(scope.name)}: these log numbers cover every stream."
            if note not in section.lines:
                section.lines.insert(0, note)

    async def selector(self) -> tuple[str, str] | ToolOutcome | None:
        """(label, stream selector): the subject's, else one from the labels Loki has; the failed outcome; or None
        when Loki has no streams."""
        if self.scope and self.scope.loki_selector:
            return str(self.scope.loki_label), self.scope.loki_selector
        found = await self.call("grafana_list_loki_labels", since=self.since)
        if not found.ok:
            return found
        names = [n for n in found.data.get("labels") or [] if isinstance(n, str)]
        if not names:
            return None
        label = next((n for n in SELECTOR_LABELS if n in names), names[0])
        return label, f'{{{label}=~".+"}}'


def series_total(row: dict[str, Any]) -> float:
    """The sum of a range result's points: count_over_time with range = step counts each line once."""
    values = row.get("values")
    if isinstance(values, list):
        return sum(v[1] for v in values if isinstance(v, list) and isinstance(v[1], (int, float)))
    avg, points = row.get("avg"), row.get("points")
    if isinstance(avg, (int, float)) and isinstance(points, int):
        return round(avg * points)
    return 0


def totals_by(outcome: ToolOutcome, label: str) -> dict[str, float]:
    rows = outcome.data.get("series") or [] if outcome.ok else []
    return {str((r.get("labels") or {}).get(label, "all")): series_total(r) for r in rows}


async def errors(ctx: PlayContext) -> Section:
    """Error rate from Loki (error lines / all lines, per source) and the most frequent error patterns."""
    section = Section(f"Error rate ({ctx.when})")
    ctx.log_note(section)
    patterns, counts = await asyncio.gather(error_patterns(ctx), _error_counts(ctx))
    if isinstance(counts, ToolOutcome):
        section.failures.append(counts.error or "Grafana: the error count failed")
    elif counts is None:
        section.headline = f"No log lines in Loki {ctx.within}: {NO_LOGS}."
    else:
        label, total, errs = counts
        for o in (total, errs):
            if not o.ok:
                section.failures.append(o.error or "")
        all_lines, by_total = totals_by(total, label), totals_by(errs, label)
        n_total, n_err = sum(all_lines.values()), sum(by_total.values())
        if total.ok and errs.ok:
            if not n_total:
                section.headline = f"No log lines in Loki {ctx.within}: {NO_LOGS}."
            else:
                rate = pct(n_err, n_total)
                section.headline = f"Error rate {ctx.within}: *{rate}* ({num(n_err)} error lines of {num(n_total)})."
                section.lines.append(
                    f"• {link(errs.data.get('explore_url'), num(n_err))} error lines of "
                    f"{link(total.data.get('explore_url'), num(n_total))} log lines: *{rate}*"
                )
                worst = sorted(all_lines, key=lambda k: (-by_total.get(k, 0), -all_lines[k]))[:5]
                if len(all_lines) > 1:
                    parts = [
                        f"{escape(k)} {pct(by_total.get(k, 0), all_lines[k])} ({num(by_total.get(k, 0))}/"
                        f"{num(all_lines[k])})"
                        for k in worst
                    ]
                    section.lines.append(f"• By {escape(label)}: " + " · ".join(parts))
    _patterns_lines(section, patterns, ctx.when)
    return section


async def error_patterns(ctx: PlayContext) -> ToolOutcome:
    """The top error patterns: of every stream, or of the subject's with its filters."""
    if not ctx.scoped:
        return await ctx.call("grafana_loki_error_patterns", **ctx.range, top=TOP_PATTERNS)
    found = await ctx.selector()
    if not isinstance(found, tuple):
        return await ctx.call("grafana_loki_error_patterns", **ctx.range, top=TOP_PATTERNS)
    query = " ".join(p for p in (found[1], ctx.base_filters, ctx.error_filter) if p)
    return await ctx.call("grafana_loki_error_patterns", query=query, **ctx.range, top=TOP_PATTERNS)


def count_queries(ctx: PlayContext, label: str, selector: str) -> tuple[str, str]:
    """(all lines, error lines) per label value, one count_over_time bucket per point of the range."""
    base = " ".join(p for p in (selector, ctx.base_filters) if p)
    step = ctx.step
    return (
        f"sum by ({label}) (count_over_time({base} [{step}s]))",
        f"sum by ({label}) (count_over_time({base} {ctx.error_filter} [{step}s]))",
    )


async def _error_counts(ctx: PlayContext) -> tuple[str, ToolOutcome, ToolOutcome] | ToolOutcome | None:
    found = await ctx.selector()
    if not isinstance(found, tuple):
        return found
    label, selector = found
    total_q, errors_q = count_queries(ctx, label, selector)
    total, errs = await ctx.toolbox.run(
        [
            ToolCall("grafana_query_loki", {"query": total_q, **ctx.range}),
            ToolCall("grafana_query_loki", {"query": errors_q, **ctx.range}),
        ]
    )
    return label, total, errs


def _patterns_lines(section: Section, patterns: ToolOutcome, when: str) -> None:
    if not patterns.ok:
        section.failures.append(patterns.error or "")
        return
    rows = [p for p in patterns.data.get("patterns") or [] if isinstance(p, dict)]
    if not rows:
        return
    url = patterns.data.get("explore_url")
    scanned = patterns.data.get("lines_scanned")
    top = rows[0]
    note = f"Most frequent error: {code(top.get('pattern', ''), 100)} ({num(top.get('count', 0))}×)."
    section.headline = f"{section.headline} {note}" if section.headline else note
    # the counts cover the window: Loki's patterns only where their samples do (else drain3, and the data says why)
    source = (
        "Loki's patterns" if patterns.data.get("source") == "loki patterns" else f"{num(scanned)} error lines scanned"
    )
    short = patterns.data.get("loki_patterns_span")
    why = f"; {escape(str(short))}" if short else ""
    section.lines.append(f"• Top error patterns over {when} ({link(url, source)}{why}):")
    for p in rows[:TOP_PATTERNS]:
        seen = f", last {p['last_seen'][11:16]} UTC" if isinstance(p.get("last_seen"), str) else ""
        section.lines.append(f"    ◦ {num(p.get('count', 0))}× {code(p.get('pattern', ''))}{seen}")


async def logs(ctx: PlayContext) -> Section:
    kind = "Error log lines" if ctx.plan.error_logs else "Log lines"
    section = Section(f"{kind} ({ctx.when})")
    ctx.log_note(section)
    found = await ctx.selector()
    if isinstance(found, ToolOutcome):
        section.failures.append(found.error or "")
        return section
    if found is None:
        section.headline = f"No log lines in Loki {ctx.within}: {NO_LOGS}."
        return section
    error = ctx.error_filter if ctx.plan.error_logs or ctx.plan.subject.codes else ""
    query = " ".join(p for p in (found[1], ctx.base_filters, error) if p)
    o = await ctx.call("grafana_query_loki", query=query, **ctx.range, limit=LOG_LINES)
    if not o.ok:
        section.failures.append(o.error or "")
        return section
    rows = [r for r in o.data.get("lines") or [] if isinstance(r, dict)]
    url = o.data.get("explore_url")
    if not rows:
        section.headline = f"No {kind.lower()} {ctx.within}."
        section.lines.append(f"• {link(url, 'Open the query in Explore')}")
        return section
    count = f"{num(len(rows))}+" if o.data.get("truncated") or len(rows) >= LOG_LINES else num(len(rows))
    section.headline = f"{count} {kind.lower()} {ctx.within}; the newest is {code(rows[0].get('line', ''), 80)}."
    section.lines.append(f"• {link(url, f'{count} lines in Explore')} (newest first):")
    for r in rows[:LOG_LINES_SHOWN]:
        section.lines.append(f"    ◦ `{str(r.get('time', ''))[11:19]}` {code(r.get('line', ''))}")
    return section


async def latency(ctx: PlayContext) -> Section:
    section = Section(f"Latency ({ctx.when})")
    found = await ctx.toolbox.run(
        [
            ToolCall("grafana_list_metric_names", {"search": "duration"}),
            ToolCall("grafana_list_metric_names", {"search": "latency"}),
        ]
    )
    names = sorted({n for o in found if o.ok for n in o.data.get("names") or [] if isinstance(n, str)})
    if not names:
        failed = [o.error or "" for o in found if not o.ok]
        if failed:
            section.failures += failed
        else:
            section.headline = "No latency metric in Prometheus (no metric name contains duration or latency)."
        return section
    matcher = ctx.scope.prom_matcher if ctx.scope else None
    paths = ctx.plan.subject.paths
    if paths:
        label = await endpoint_label(ctx.toolbox, latency_query(names)[0])
        if label:
            matcher = ", ".join(m for m in (matcher, path_matcher(label, paths)) if m)
        else:
            section.lines.append(
                f"• The latency metric has no route label: this is every path, not {escape(paths[0])}."
            )
    metric, expr, quantile = latency_query(names, matcher)
    if ctx.scope and ctx.scope.found and not (ctx.scope.prom_matcher):
        note = f"No Prometheus series is labelled {escape(ctx.scope.name)}: this is the overall latency."
        section.lines.append(f"• {note}")
    o = await ctx.call("grafana_query_prometheus", expr=expr, **ctx.range)
    if not o.ok:
        section.failures.append(o.error or "")
        return section
    rows = [r for r in o.data.get("series") or [] if isinstance(r, dict)]
    url = o.data.get("explore_url")
    if not rows:
        section.headline = f"No {code(metric)} data {ctx.within}."
        section.lines.append(f"• {link(url, 'Open the query in Explore')}")
        return section
    first = rows[0]
    q = (first.get("labels") or {}).get("quantile")
    if not quantile and q:
        quantile = f"p{float(q) * 100:g}" if _is_number(q) else ""
    what = f"{quantile} latency ({code(metric)})" if quantile else code(metric)
    section.headline = (
        f"{what[0].upper()}{what[1:]} is *{duration(first.get('last'), metric)}* now "
        f"(max {duration(first.get('max'), metric)} {ctx.within})."
    )
    section.lines.append(f"• {link(url, expr if len(expr) <= 80 else metric)}:")
    for r in rows[:8]:
        section.lines.append(
            f"    ◦ {escape(labels_text(r.get('labels') or {}))}: now {duration(r.get('last'), metric)}, "
            f"avg {duration(r.get('avg'), metric)}, max {duration(r.get('max'), metric)}"
        )
    return section


def latency_query(names: list[str], matcher: str | None = None) -> tuple[str, str, str]:
    """(metric, PromQL, quantile label): p95 from a histogram when there is one, else the metric itself."""
    where = f"{{{matcher}}}" if matcher else ""
    histogram = pick_metric(names)
    if histogram:
        return histogram, p95_query(histogram, "5m", matcher), "p95"
    plain = [n for n in names if not n.endswith(("_count", "_sum", "_created"))] or names
    name = sorted(plain, key=lambda n: ("request" not in n, "http" not in n, len(n)))[0]
    return name, f"{name}{where}", ""


def _is_number(text: Any) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def duration(value: Any, metric: str) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "n/a"
    if "second" in metric or metric.endswith("_s"):
        return quantity(value, "s")
    if "milli" in metric or metric.endswith("_ms"):
        return quantity(value, "ms")
    return num(value)


async def alerts(ctx: PlayContext) -> Section:
    section = Section("Alerts")
    o = await ctx.call("grafana_get_alerts")
    if not o.ok:
        section.failures.append(o.error or "")
        return section
    d = o.data
    firing, pending = d.get("firing", 0), d.get("pending", 0)
    url = d.get("alerting_url")
    if not firing and not pending:
        rules = f"{num(d.get('rules_total', 0))} rules"
        section.headline = f"No alerts firing or pending ({link(url, rules)})."
        return section
    section.headline = f"*{num(firing)} alert{'s' if firing != 1 else ''} firing*, {num(pending)} pending."
    section.lines.append(f"• {link(url, f'{num(firing)} firing, {num(pending)} pending')}:")
    for a in [r for r in d.get("alerts") or [] if isinstance(r, dict)][:10]:
        icon = ":fire:" if a.get("state") == "firing" else ":hourglass:"
        since = f" since {a['active_at'][:16].replace('T', ' ')} UTC" if a.get("active_at") else ""
        summary = f": {escape(str(a['summary']))}" if a.get("summary") else ""
        name = link(a.get("explore_url"), str(a.get("rule", "?")))
        section.lines.append(f"    ◦ {icon} *{name}* {a.get('state')}{since}{summary}")
    return section
