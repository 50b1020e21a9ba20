"""A plan's subject matched to what the instance has, and the scope line every answer starts with.

    scope = await resolve_scope(toolbox, plan)   # grafana_resolve_subject for each name, concurrently
    scope.loki_selector      # '{app="api-server"}' or None (then the plays discover a selector of all streams)
    scope_line(plan, scope)  # "Scope: api-server (label app), last 24 h; with 503"

A name that matches nothing is said so, never widened silently: "no stream or series labelled api-server;
showing all logs with 503".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.rules.planner import Plan, plan
from agent.rules.subject import describe_filters, line_filters
from agent.toolbox import Toolbox, ToolCall
from text.mrkdwn import escape

KINDS = ("service", "app", "pod", "namespace", "container", "job")
ALIASES = {"ns": "namespace", "svc": "service", "microservice": "service", "application": "app", "pods": "pod"}
LABELS = ("service_name", "source", "service", "instance", "host")  # a label the question named: label=value
RESOLVE_SINCE = "24h"  # a name is looked up over at least a day: a quiet hour must not hide a service


@dataclass
class Scope:
    names: tuple[str, ...] = ()
    found: dict[str, Any] | None = None  # the resolve_subject result of the first name that matched
    failures: list[str] = field(default_factory=list)
    looked_up: bool = False

    @property
    def name(self) -> str:
        return str(self.found["name"]) if self.found else (self.names[0] if self.names else "")

    @property
    def missing(self) -> bool:
        """Names were asked for, looked up, and none matched."""
        return bool(self.names) and self.looked_up and self.found is None and not self.failures

    @property
    def loki_selector(self) -> str | None:
        return self.found.get("selector") if self.found else None

    @property
    def loki_label(self) -> str | None:
        return self.found.get("loki_label") if self.found else None

    @property
    def prom_matcher(self) -> str | None:
        return self.found.get("prometheus_matcher") if self.found else None

    @property
    def prom_label(self) -> str | None:
        return self.found.get("prometheus_label") if self.found else None

    @property
    def values(self) -> list[str]:
        """Every label value the name matched (for matching alerts)."""
        if not self.found:
            return []
        return sorted({str(v) for m in self.found.get("matches") or [] for v in m.get("values") or []})

    def where(self) -> str:
        """'api-server (label app)', 'api-server (Prometheus label job)'."""
        if not self.found:
            return escape(self.name)
        best = (self.found.get("matches") or [{}])[0]
        values = best.get("values") or []
        shown = escape(values[0] if len(values) == 1 else self.name)
        if self.loki_label:
            return f"{shown} (label {escape(self.loki_label)})"
        return f"{shown} (Prometheus label {escape(str(self.prom_label))})"


def resolve_range(plan: Plan) -> dict[str, str]:
    """The range names are looked up in: the plan's window through now, and at least the last day."""
    w = plan.window
    if w.ends_now:
        return {"since": RESOLVE_SINCE if w.hours < 24 else w.since}
    assert w.start is not None
    return {"since": RESOLVE_SINCE} if w.hours < 24 else {"since": f"{math.ceil(w.hours)}h"}


async def resolve_scope(toolbox: Toolbox, plan: Plan) -> Scope:
    """Look every candidate name up at once; the first (in question order) that matched is the scope."""
    names = plan.subject.names[:3]
    scope = Scope(names=names)
    if not names or not toolbox.has("grafana_resolve_subject"):
        return scope
    kind = ALIASES.get(plan.subject.kind or "", plan.subject.kind)
    kind = kind if kind in KINDS or kind in LABELS else None
    calls = []
    for name in names:
        args: dict[str, Any] = {"name": name, **resolve_range(plan)}
        if kind:
            args["kind"] = kind
        calls.append(ToolCall("grafana_resolve_subject", args))
    outcomes = await toolbox.run(calls)
    scope.looked_up = True
    for o in outcomes:
        if not o.ok:
            scope.failures.append(o.error or "grafana_resolve_subject failed")
        elif o.data.get("found") and scope.found is None:
            scope.found = o.data
    if scope.found is not None:
        scope.failures = []
    return scope


ENDPOINT_LABELS = ("route", "handler", "path", "endpoint", "uri", "url", "operation")


async def endpoint_label(toolbox: Toolbox, metric: str) -> str | None:
    """The label a metric names its endpoints with (route, handler, path…), from the series that exist."""
    labels = await toolbox.call(ToolCall("grafana_list_label_values", {"match": metric}))
    have = set(labels.data.get("values") or []) if labels.ok else set()
    return next((label for label in ENDPOINT_LABELS if label in have), None)


def path_matcher(label: str, paths: tuple[str, ...]) -> str:
    """route=~".*(/orders|/pay).*": the endpoints whose label contains a path the question names."""
    alternatives = "|".join(re.sub(r"([.+*?()|\[\]{}^$\\])", r"\\\1", p) for p in paths)
    return f'{label}=~".*({alternatives}).*"'.replace("\\", "\\\\")


def question_hints(text: str, now: datetime) -> dict[str, Any]:
    """What the rule planner's readers make of a question, for Claude's system prompt: the window (as tool arguments),
    a time phrase it could not read, and the names, codes, paths and terms to scope with."""
    p = plan(text, now)
    sub = p.subject
    window = {"label": p.window.label, "args": p.window.range_args()} if p.window_asked else None
    return {
        "question_window": window,
        "question_unreadable_time": p.unreadable_time,
        "question_names": list(sub.names),
        "question_filters": line_filters(sub),
        "question_external": sub.external,
        "question_group_by": sub.group_by,
    }


def scope_line(plan: Plan, scope: Scope | None) -> str:
    """The first line of a Grafana answer: what it covers, and anything asked for that it could not honour."""
    when = plan.window.short
    filters = describe_filters(plan.subject)
    if scope and scope.found:
        what = scope.where()
    elif scope and scope.missing:
        names = " or ".join(escape(n) for n in scope.names)
        showing = f"all logs {filters}" if filters else "everything"
        what = f"no stream or series labelled {names}; showing {showing}"
        filters = ""
    elif scope and scope.failures:
        what = f"could not look up {escape(scope.name)}; showing everything"
    else:
        what = "all services"
    line = f"Scope: {what}, {escape(when)}"
    if filters:
        line += f"; {escape(filters)}"
    if plan.unreadable_time:
        line += f' (could not read the time "{escape(plan.unreadable_time)}": this is {escape(when)})'
    return line
