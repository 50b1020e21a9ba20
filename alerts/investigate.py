"""The rule-based investigation of one firing alert, every upstream call through the skills' tools (one Toolbox).

First round, all at once: the alert rule (its expression and Explore link, `grafana_get_alerts`), the Loki
label names (to scope the error patterns to the alert's labels, then `grafana_loki_error_patterns`, which asks
Loki for its patterns and fetches the lines at the same time), the changes (deploys, pushes, annotations) in the hours
before the alert started (`recent_changes`) and the tracking-plan events in Amplitude, last hours vs the hours before.
Second round, only when the expression had to be looked up first (Grafana rules; an Alertmanager alert's
generatorURL carries it): the same signal over the last hours as a sparkline. The first reply is posted once the
first round answered, or after `wait` seconds with what had (the rest, then the second round, edited in place).
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import parse_qs, urlsplit

from agent.rules.plays_changes import from_rows
from agent.toolbox import Toolbox, ToolCall, ToolOutcome
from alerts.model import Alert
from skills.amplitude.snippet import EVENT_NAMES
from skills.changes.jumps import in_window, nearest_before
from skills.grafana.rule_queries import guess_type
from storage.changes import Change
from supervisor import Scope

CHANGES_BEFORE = timedelta(hours=6)  # how far before startsAt a change counts
SIGNAL_SINCE = "6h"
SIGNAL_STEP = "15m"  # 24 points over 6 h: the tools list values up to 24 points
PATTERNS_SINCE = "1h"
EVENT_HOURS = 3
EVENT_MOVED_PCT = 50.0
EVENT_MIN = 5
NOT_LOKI_LABELS = frozenset({"alertname", "severity", "grafana_folder", "team"})
TITLE_LABELS = 12  # Loki labels whose values a title's values are matched against


@dataclass
class Signal:
    expr: str
    kind: str  # prometheus | loki
    explore_url: str | None = None
    values: list[float | None] = field(default_factory=list)
    last: float | None = None


@dataclass
class Findings:
    alert: Alert
    now: datetime
    rule_link: str | None = None  # the rule's expression in Explore
    signal: Signal | None = None
    selector: str | None = None
    patterns: list[dict[str, Any]] = field(default_factory=list)
    error_lines: int = 0
    patterns_link: str | None = None
    changes: list[Change] = field(default_factory=list)
    nearest: Change | None = None
    changes_checked: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)  # the ones that moved
    notes: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # first-round calls still running when the reply was posted
    start_seen: bool = False  # the alert's start is sitrep's first sighting (its notification carried none)

    @property
    def started(self) -> datetime:
        return self.alert.starts_at or self.now

    @property
    def minutes_before(self) -> int | None:
        if self.nearest is None:
            return None
        return max(0, round((self.started - self.nearest.at).total_seconds() / 60))


def expr_from_generator_url(url: str) -> str | None:
    """Prometheus' alert generatorURL is its graph page with the rule's expression as g0.expr."""
    query = parse_qs(urlsplit(url).query)
    exprs = query.get("g0.expr")
    return exprs[0] if exprs and exprs[0].strip() else None


async def first_round(
    scope: Scope, toolbox: Toolbox, alert: Alert, now: datetime, *, wait: float | None = None, seen: bool = False
) -> tuple[Findings, list[asyncio.Task[None]]]:
    """Every first-round call at once, in the caller's `scope`; after `wait` seconds (None: no limit) the findings
    so far and the calls still running (each fills `found` in when it answers; `found.pending` names them until
    then; they end with the scope)."""
    found = Findings(alert, now, start_seen=seen)
    expr = expr_from_generator_url(alert.generator_url)
    if expr:
        found.signal = Signal(expr, "prometheus")
    jobs = {
        "the alert rule": _rule(toolbox, found),
        "Loki's error patterns": _patterns(toolbox, found),
        "the changes": _changes(toolbox, found, ["github", "vercel"]),
        "Grafana's annotations": _changes(toolbox, found, ["grafana"]),
        "Amplitude's events": _events(toolbox, found),
    }
    if found.signal is not None:
        jobs["the signal"] = _signal(toolbox, found)
    tasks = {scope.start(job, what): what for what, job in jobs.items()}
    for task, what in tasks.items():
        found.pending.append(what)
        task.add_done_callback(partial(_answered, found, what))
    done, late = await asyncio.wait(tasks, timeout=wait)
    for task in done:
        task.result()  # a bug in a job is raised, not hidden
    return found, list(late)


async def second_round(toolbox: Toolbox, found: Findings) -> bool:
    """The signal's sparkline when the first round found the expression; True when something was added."""
    if found.signal is None or found.signal.values:
        return False
    await _signal(toolbox, found)
    return bool(found.signal.values)


def _answered(found: Findings, what: str, _: asyncio.Task[None]) -> None:
    found.pending.remove(what)


def _failed(found: Findings, o: ToolOutcome) -> bool:
    if o.ok:
        return False
    source = o.call.name.split("_", 1)[0].title()
    error = str(o.error or "")
    found.notes.append(error if error.startswith(f"{source}:") else f"{source}: {error}")
    return True


async def _one(toolbox: Toolbox, found: Findings, name: str, **args: Any) -> dict[str, Any] | None:
    if not toolbox.has(name):
        return None
    o = await toolbox.call(ToolCall(name, args))
    return None if _failed(found, o) else (o.data if isinstance(o.data, dict) else {})


async def _rule(toolbox: Toolbox, found: Findings) -> None:
    data = await _one(toolbox, found, "grafana_get_alerts")
    if data is None:
        return
    row = next((r for r in data.get("alerts") or [] if isinstance(r, dict) and r.get("rule") == found.alert.name), None)
    if row is None:
        return
    found.rule_link = row.get("explore_url")
    queries = [q for q in row.get("queries") or [] if isinstance(q, str) and q.strip()]
    if queries and found.signal is None:
        kind = "loki" if guess_type(queries[0]) == "loki" else "prometheus"
        found.signal = Signal(queries[0], kind)


async def _signal(toolbox: Toolbox, found: Findings) -> None:
    signal = found.signal
    if signal is None:
        return
    if signal.kind == "loki":
        data = await _one(toolbox, found, "grafana_query_loki", query=signal.expr, since=SIGNAL_SINCE, step=SIGNAL_STEP)
    else:
        data = await _one(
            toolbox, found, "grafana_query_prometheus", expr=signal.expr, since=SIGNAL_SINCE, step=SIGNAL_STEP
        )
    if data is None:
        return
    signal.explore_url = data.get("explore_url") or signal.explore_url
    series = [s for s in data.get("series") or [] if isinstance(s, dict)]
    if not series:
        return
    top = series[0]
    values = [pair[1] for pair in top.get("values") or [] if isinstance(pair, list) and len(pair) == 2]
    signal.values = [float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None for v in values]
    last = top.get("last")
    signal.last = float(last) if isinstance(last, (int, float)) else None


async def _patterns(toolbox: Toolbox, found: Findings) -> None:
    labels = await _one(toolbox, found, "grafana_list_loki_labels", since="24h")
    if labels is None:
        return
    names = {str(n) for n in labels.get("labels") or []}
    pairs = {k: v for k, v in found.alert.labels.items() if k in names and k not in NOT_LOKI_LABELS and v}
    if not pairs and found.alert.title_only:
        pairs = await _title_pairs(toolbox, found, sorted(names - NOT_LOKI_LABELS))
        if not pairs:
            return
    if not pairs:
        found.notes.append("none of the alert's labels is a Loki label, so no error patterns for it")
        return
    found.selector = "{" + ",".join(f'{k}="{_quote(v)}"' for k, v in sorted(pairs.items())) + "}"
    data = await _one(toolbox, found, "grafana_loki_error_patterns", query=found.selector, since=PATTERNS_SINCE, top=3)
    if data is None:
        return
    found.patterns = [p for p in data.get("patterns") or [] if isinstance(p, dict)][:3]
    found.error_lines = int(data.get("lines_scanned") or 0)
    found.patterns_link = data.get("explore_url")


async def _title_pairs(toolbox: Toolbox, found: Findings, names: list[str]) -> dict[str, str]:
    """A message with only a title: the Loki labels whose values include one of the title's values (their names
    are not in the message), or a note saying why there are none."""
    values = found.alert.title_values
    if not values:
        found.notes.append(
            "the alert's message carried no labels (Alertmanager's default Slack message has only its title), "
            "so no error patterns for it"
        )
        return {}
    calls = [ToolCall("grafana_list_loki_label_values", {"label": n, "since": "24h"}) for n in names[:TITLE_LABELS]]
    pairs: dict[str, str] = {}
    for o in await toolbox.run(calls) if toolbox.has("grafana_list_loki_label_values") else []:
        seen = {str(v) for v in (o.data.get("values") or [])} if o.ok and isinstance(o.data, dict) else set()
        value = next((v for v in values if v in seen), None)
        if value is not None:
            pairs[str(o.call.args["label"])] = value
    if not pairs:
        said = ", ".join(values)
        found.notes.append(
            f"none of the values in the alert's title ({said}) is a Loki label value, so no error patterns"
        )
    return pairs


async def _changes(toolbox: Toolbox, found: Findings, sources: list[str]) -> None:
    """The changes of `sources` before the alert started, merged into what the other source gave: sitrep's own
    table (deploys, pushes) answers at once, Grafana's annotations when Grafana does."""
    since = found.started - CHANGES_BEFORE
    hours = max(1, min(24 * 14, math.ceil((found.now - since).total_seconds() / 3600)))
    data = await _one(toolbox, found, "recent_changes", hours=hours, sources=sources)
    if data is None:
        return
    found.changes_checked = True
    found.changes = in_window(found.changes + from_rows(data.get("changes")), since, found.started)
    found.nearest = nearest_before(found.changes, found.started)


async def _events(toolbox: Toolbox, found: Findings) -> None:
    if not toolbox.has("amplitude_query_events"):
        return
    calls = [ToolCall("amplitude_query_events", {"event_type": e, "hours": EVENT_HOURS}) for e in EVENT_NAMES]
    for o in await toolbox.run(calls):
        if not o.ok or not isinstance(o.data, dict):
            continue  # an event the project does not send is not news
        total, prev = o.data.get("total") or 0, o.data.get("previous_total") or 0
        if max(total, prev) < EVENT_MIN:
            continue
        pct = (total - prev) / prev * 100 if prev else math.inf
        if abs(pct) >= EVENT_MOVED_PCT:
            found.events.append(
                {"event": o.call.args["event_type"], "total": total, "previous": prev, "link": o.data.get("link")}
            )


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def utc_now() -> datetime:
    return datetime.now(UTC)
