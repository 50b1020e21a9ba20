"""The Grafana section: errors, error rate, volume, p95 latency and firing alerts over the window vs the one before.

Every query is issued at once (one round trip) once the data sources and the Loki selector are known
(reports/sections/discovery.py):

- four Loki metric range queries over both windows, one point per bucket (12 per window by default):
  all lines, error lines (the error-pattern filter), lines with a `statusCode` (the Vercel drain's request
  lines) and lines with a 5xx `statusCode`. When request lines exist the error rate is 5xx / requests,
  otherwise error lines / all lines; the section says which.
- the top error patterns (loki_error_patterns over the current window: Loki's own patterns where it has them and
  their samples cover the window, else drain3 over the newest error lines, counted over the whole window);
- the raw `_bucket` counters of a latency histogram, when Prometheus has one (p95 computed in code);
- Grafana-managed alerts.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from reports.model import Figure, Item, Listing, Section, failed, finite, no_data
from reports.sections import discovery
from reports.sections.discovery import Discovery
from reports.sections.latency import Latency, p95
from skills.base import SkillError
from skills.grafana import loki, patterns
from skills.grafana import readiness as grafana_readiness
from skills.grafana.client import DataSourceGone, GrafanaClient
from skills.grafana.explore import explore_url
from skills.grafana.latency import p95_query
from skills.grafana.results import point
from skills.grafana.skill import GrafanaSkill
from skills.grafana.timeutil import TimeRange
from text.sparkline import sparkline

KEY, TITLE = "grafana", "Grafana"
STATUS_FILTER = r'|~ `"statusCode":\s*\d\d\d`'
FIVE_XX_FILTER = r'|~ `"statusCode":\s*5\d\d`'
TOP_PATTERNS = 5
MAX_HISTOGRAM_SERIES = 5000


@dataclass(frozen=True)
class Window:
    """The current window (the last `hours` up to `end`) and the one before it, in `buckets` buckets each."""

    end: datetime
    hours: float = 12
    buckets: int = 12

    @property
    def step_s(self) -> int:
        return max(1, int(self.hours * 3600 / self.buckets))

    @property
    def current(self) -> TimeRange:
        return TimeRange(self.end - timedelta(hours=self.hours), self.end)

    @property
    def both(self) -> TimeRange:
        """Range query bounds whose 2 × buckets points each close one bucket, the last one at `end`."""
        return TimeRange(self.end - timedelta(seconds=self.step_s * (2 * self.buckets - 1)), self.end)

    @property
    def since(self) -> str:
        return f"{duration(self.hours * 3600)}"

    def describe(self) -> str:
        return f"last {hours_text(self.hours)} vs the {hours_text(self.hours)} before"


def duration(seconds: float) -> str:
    """A LogQL/PromQL duration: 1h, 30m, 90s."""
    s = int(seconds)
    if s % 3600 == 0:
        return f"{s // 3600}h"
    if s % 60 == 0:
        return f"{s // 60}m"
    return f"{s}s"


def lookback(hours: float) -> str:
    """How far back discovery looks for the Loki labels of a report over `hours`: both of its windows."""
    return duration(hours * 3600 * 2)


def hours_text(hours: float) -> str:
    return f"{hours:g} h"


def queries(selector: str, step: str) -> dict[str, str]:
    """The four Loki metric queries, one count per bucket of `step`."""

    def count(pipeline: str) -> str:
        inner = f"{selector} {pipeline}".strip()
        return f"sum(count_over_time({inner} [{step}]))"

    return {
        "lines": count(""),
        "errors": count(patterns.ERROR_FILTER),
        "requests": count(STATUS_FILTER),
        "5xx": count(FIVE_XX_FILTER),
    }


def buckets(data: dict[str, Any], start: float, step: float, points: int) -> list[float]:
    """A matrix summed over its series, one value per point of the range (missing points, and NaN or infinite
    samples, are 0). A result that is not a list of series (a scalar, none at all) has no points."""
    out = [0.0] * points
    result = data.get("result") if data.get("resultType", "matrix") == "matrix" else None
    for series in result if isinstance(result, list) else []:
        for found in map(point, series.get("values") or [] if isinstance(series, dict) else []):
            if found is None:
                continue
            ts, value = found
            k = round((ts - start) / step)
            if 0 <= k < points:
                out[k] += value
    return out


async def grafana_section(skill: GrafanaSkill | None, window: Window) -> Section:
    """The section, never raising for an upstream problem: a failed or no-data section says why in one line."""
    if skill is None:
        return no_data(KEY, TITLE, "this build of sitrep has no Grafana skill", "update sitrep")
    if not skill.configured:
        row = grafana_readiness.not_configured(skill.url, skill.token)
        return no_data(KEY, TITLE, f"Grafana is not configured: {row.missing}", row.next_step)
    client = skill.client
    since = lookback(window.hours)
    try:
        found, cached = await discovery.known(client, since)
        try:
            section: Section | None = await _section(client, found, window, retry_gone=True)
        except DataSourceGone:  # a UID that is gone: what was known is stale whether cached or just made
            section, cached = None, True
        except SkillError:
            if not cached:
                raise
            section = None
        if cached and (section is None or not section.ok):  # what we knew may be stale: look again, once
            fresh = await discovery.refresh(client, since)
            if section is None or fresh != found:
                section = await _section(client, fresh, window, retry_gone=False)
        if section is None:
            raise SkillError("Grafana", "the queries failed with what was known and nothing changed since")
        return section
    except SkillError as exc:
        discovery.forget(client)
        return failed(KEY, TITLE, exc.message, exc.hint or "try again later", window=window.describe())


async def _section(client: GrafanaClient, found: Discovery, window: Window, *, retry_gone: bool) -> Section:
    """The section from one discovery. With retry_gone, any query that names a data source Grafana no longer has
    raises DataSourceGone (the caller looks again and builds once more); without, it becomes its line."""
    desc = window.describe()
    if found.loki_uid is None:
        return no_data(
            KEY,
            TITLE,
            "Grafana has no Loki data source",
            "add the Loki data source in Grafana (Connections → Data sources), or set grafana.datasources.loki "
            "in the team config",
            window=desc,
        )
    if found.selector is None:
        return _no_logs(found, window)
    results = await _run_all(client, found, window)
    gone = next((r for r in results.values() if isinstance(r, DataSourceGone)), None)
    if gone is not None and retry_gone:
        raise gone
    for name in ("lines", "errors"):
        if isinstance(results[name], BaseException):
            raise _as_skill_error(results[name])
    points = 2 * window.buckets
    start = window.both.start.timestamp()
    series = {
        name: buckets(value, start, window.step_s, points) if isinstance(value, dict) else None
        for name, value in results.items()
        if name in ("lines", "errors", "requests", "5xx")
    }
    if not any(series["lines"] or []):
        return _no_logs(found, window)
    section = Section(KEY, TITLE, window=desc, link=client.public_url, link_label="Grafana")
    _error_figures(section, client, found, window, series)
    _latency(section, client, found, window, results.get("latency"))
    _alerts(section, results["alerts"], f"{client.public_url}/alerting/list")
    _patterns(section, results["patterns"])
    return section


def _no_logs(found: Discovery, window: Window) -> Section:
    return no_data(
        KEY,
        TITLE,
        f"Grafana has no data yet: Loki has no log lines in the last {hours_text(window.hours * 2)}",
        grafana_readiness.drain_step(found.loki_datasource),
        window=window.describe(),
    )


async def _run_all(client: GrafanaClient, found: Discovery, window: Window) -> dict[str, Any]:
    """Every query at once; each result is the data or the exception it raised."""
    assert found.loki_uid and found.selector
    uid, both = found.loki_uid, window.both
    calls: dict[str, Any] = {
        name: loki.fetch(client, uid, expr, both, limit=100, step=window.step_s)
        for name, expr in queries(found.selector, duration(window.step_s)).items()
    }
    calls["patterns"] = patterns.error_patterns(client, found.selector, window.since, top=TOP_PATTERNS, uid=uid)
    calls["alerts"] = client.alerts()
    if found.prometheus_uid and found.latency_metric:
        calls["latency"] = _histogram(client, found.prometheus_uid, found.latency_metric, window)
    values = await asyncio.gather(*calls.values(), return_exceptions=True)
    return dict(zip(calls, values, strict=True)) | ({} if "latency" in calls else {"latency": None})


async def _histogram(client: GrafanaClient, uid: str, metric: str, window: Window) -> Latency:
    start = window.end - timedelta(seconds=window.step_s * 2 * window.buckets)
    params = {
        "query": metric,
        "start": f"{start.timestamp():.3f}",
        "end": f"{window.end.timestamp():.3f}",
        "step": str(window.step_s),
    }
    body = await client.proxy(uid, "api/v1/query_range", params, upstream="Prometheus")
    data = body.get("data") if isinstance(body, dict) else None
    result = data.get("result") if isinstance(data, dict) else None
    if not isinstance(result, list):
        raise SkillError("Grafana", "Prometheus answered without a result", "check the Prometheus data source")
    if len(result) > MAX_HISTOGRAM_SERIES:
        raise SkillError("Grafana", f"{metric} has {len(result):,} series, too many to add up here")
    return p95(result, metric, start.timestamp(), window.step_s, window.buckets)


def _as_skill_error(exc: BaseException) -> SkillError:
    if isinstance(exc, SkillError):
        return exc
    return SkillError("Grafana", f"the query failed ({type(exc).__name__}: {exc})", "try again later")


def _error_figures(
    section: Section, client: GrafanaClient, found: Discovery, window: Window, series: dict[str, list[float] | None]
) -> None:
    n = window.buckets
    lines, errors = series["lines"] or [], series["errors"] or []
    requests, five_xx = series["requests"], series["5xx"]
    step = duration(window.step_s)
    exprs = queries(found.selector or "", step)
    if requests is not None and five_xx is not None and sum(requests) > 0:
        err, base = five_xx, requests
        err_label, rate_label, base_label = "5xx responses", "5xx rate", "Requests"
        err_expr, base_expr = exprs["5xx"], exprs["requests"]
        note = "5xx responses / requests, from the statusCode of the Vercel drain's request lines"
    else:
        err, base = errors, lines
        err_label, rate_label, base_label = "Error lines", "Error rate", "Log lines"
        err_expr, base_expr = exprs["errors"], exprs["lines"]
        note = "error lines / all log lines (lines matching error, exception, fail, timeout or 5xx)"
        if requests is None or five_xx is None:
            section.lines.append("5xx rate unavailable (the statusCode queries failed); using error lines")

    def link(expr: str) -> str:
        return explore_url(client.public_url, found.loki_uid or "", "loki", expr, window.current)

    cur_err, prev_err = sum(err[n:]), sum(err[:n])
    cur_base, prev_base = sum(base[n:]), sum(base[:n])
    rate_steps = [e / b * 100 if b else None for e, b in zip(err[n:], base[n:], strict=True)]
    section.figures += [
        Figure(err_label, _int(cur_err), _int(prev_err), sparkline=sparkline(err[n:]), link=link(err_expr),
               link_label="Explore", series=list(err[n:]), step_s=window.step_s),
        Figure(
            rate_label,
            _rate(cur_err, cur_base),
            _rate(prev_err, prev_base),
            unit="%",
            sparkline=sparkline(rate_steps),
            link=link(f"{err_expr} / {base_expr}"),
            link_label="Explore",
            note=note,
        ),
        Figure(base_label, _int(cur_base), _int(prev_base), sparkline=sparkline(base[n:]), link=link(base_expr),
               link_label="Explore"),
    ]  # fmt: skip


def _latency(section: Section, client: GrafanaClient, found: Discovery, window: Window, result: Any) -> None:
    if not found.prometheus_uid:
        section.lines.append("p95 latency: no Prometheus data source in Grafana")
        return
    if not found.latency_metric:
        why = f" ({found.prometheus_problem})" if found.prometheus_problem else ""
        section.lines.append(f"p95 latency: no latency histogram in Prometheus{why}")
        return
    if isinstance(result, BaseException):
        section.lines.append(f"p95 latency unavailable: {_as_skill_error(result).message}")
        return
    if not isinstance(result, Latency) or result.current is None:
        section.lines.append(f"p95 latency: no requests observed by {found.latency_metric} in the window")
        return
    expr = p95_query(found.latency_metric, duration(window.step_s * window.buckets))
    section.figures.append(
        Figure(
            "p95 latency",
            round(result.current, 3),
            round(result.previous, 3) if result.previous is not None else None,
            unit=result.unit,
            sparkline=sparkline(result.per_step),
            link=explore_url(client.public_url, found.prometheus_uid, "prometheus", expr, window.current, instant=True),
            link_label="Explore",
            note=f"from {found.latency_metric}",
            series=list(result.per_step),
            step_s=window.step_s,
        )
    )


def _alerts(section: Section, result: Any, alerting_url: str) -> None:
    if isinstance(result, BaseException):
        section.lines.append(f"alerts unavailable: {_as_skill_error(result).message}")
        return
    firing = [a for a in result.get("alerts") or [] if a.get("state") == "firing"]
    section.figures.append(
        Figure("Firing alerts", int(result.get("firing") or 0), link=alerting_url, link_label="Alerting")
    )
    items = [
        Item(str(a.get("rule")), detail=_alert_detail(a), link=a.get("explore_url"), link_label="Explore")
        for a in firing
    ]
    pending = int(result.get("pending") or 0)
    empty = "none firing" if result.get("rules_total") else "no Grafana-managed alert rules yet"
    note = f"{pending} pending" if pending else ""
    if items or note:
        section.listings.append(Listing("Firing alerts", items[:10], note=note, empty=empty))


def _patterns(section: Section, result: Any) -> None:
    if isinstance(result, BaseException):
        section.lines.append(f"error patterns unavailable: {_as_skill_error(result).message}")
        return
    items = [Item(str(p.get("pattern")), int(p.get("count") or 0), code=True) for p in result.get("patterns") or []]
    notes = []
    if result.get("loki_patterns_span"):  # too short a span: clustered over the window instead
        notes.append(f"{result['loki_patterns_span']}: counted here over the whole window")
    if result.get("counted", "window") != "window":
        scanned = int(result.get("lines_scanned") or 0)
        notes.append(f"some counts only from the newest {scanned:,} error lines")
    note = "; ".join(notes)
    section.listings.append(
        Listing(
            "Top error patterns",
            items,
            note=note,
            empty="no error lines",
            link=result.get("explore_url"),
            link_label="Explore",
        )
    )


def _alert_detail(alert: dict[str, Any]) -> str:
    parts = []
    instances = int(alert.get("instances") or 0)
    if instances > 1:
        parts.append(f"{instances} instances")
    if alert.get("active_at"):
        parts.append(f"since {alert['active_at']}")
    if alert.get("summary"):
        parts.append(str(alert["summary"]))
    return " · ".join(parts)


def _int(value: float) -> int:
    return round(value)


def _rate(errors: float, base: float) -> float | None:
    return finite(errors / base * 100, 2) if base else None
