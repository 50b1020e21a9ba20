"""The investigation as Slack mrkdwn: what is firing, the signal, the errors, the changes before it, the product
events that moved; each number linked to where it came from. Pure."""

from __future__ import annotations

from datetime import datetime

from alerts.investigate import Findings
from alerts.model import Alert
from text.mrkdwn import code, escape, link, num
from text.sparkline import sparkline

MAX_LABELS = 8


def hhmm(at: datetime) -> str:
    return f"{at:%H:%M} UTC"


def value_text(alert: Alert) -> str:
    if alert.values:
        return ", ".join(f"{k}={num(v)}" for k, v in sorted(alert.values.items()))
    return alert.value_text.strip()


GROUP_HEAD = (
    ":rotating_light: *{n} alerts* fired together in this channel; each is investigated in this thread, most severe"
    " first:"
)
INVESTIGATIONS_HEAD = "*{n} investigations*, most severe first:"
SEVERITY_WORD = {4: "critical", 3: "high", 2: "warning", 1: "info"}


def since(alert: Alert, seen: bool = False) -> str:
    """ "since 08:10 UTC", or "first seen 08:10 UTC" when the notification carried no start time (a Slack message):
    sitrep's first sighting, not when the alert started."""
    if alert.starts_at is None:
        return ""
    return f"first seen {hhmm(alert.starts_at)}" if seen else f"since {hhmm(alert.starts_at)}"


def headline(alert: Alert, now: datetime, *, seen: bool = False) -> str:
    when = since(alert, seen)
    when = f", {when}" if seen and when else f" {when}" if when else ""
    value = value_text(alert)
    value_part = f": {link(alert.generator_url or None, value)}" if value else ""
    return f":rotating_light: *{escape(alert.name)}* is firing{when}{value_part}"


def alert_line(alert: Alert, *, seen: bool = False, resolved_at: datetime | None = None) -> str:
    """The alert's line in a grouped message: its name linked to where it came from, how bad, since when."""
    name = f"*{link(alert.generator_url or None, alert.name)}*"
    if resolved_at is not None and alert.starts_at is not None:
        return f"• :white_check_mark: {name} {resolved_line(resolved_at, alert.starts_at, seen=seen, short=True)}"
    severity = SEVERITY_WORD.get(alert.severity)
    parts = [f"• :rotating_light: {name}", f"({severity})" if severity else "", since(alert, seen)]
    value = value_text(alert)
    line = " ".join(p for p in parts if p)
    return f"{line}: {escape(value)[:80]}" if value else line


def resolved_headline(alert: Alert, resolved_at: datetime, *, seen: bool = False) -> str:
    """sitrep's post of an alert (webhook mode) once it resolved."""
    started = alert.starts_at or resolved_at
    was = f" ({since(alert, seen)})" if alert.starts_at else ""
    how = resolved_line(resolved_at, started, seen=seen, short=True)
    return f":white_check_mark: *{escape(alert.name)}* {how}{was}"


def linked_code(url: str | None, text: str, limit: int) -> str:
    """Inline code inside a link: escaped once (link() escapes its label; code() would escape it a second time,
    showing `&gt;` for a `>` in the expression)."""
    flat = " ".join(text.split()).replace("`", "ˋ")
    flat = flat if len(flat) <= limit else flat[: limit - 1] + "…"
    return link(url, f"`{flat}`")


def labels_line(alert: Alert) -> str:
    shown = [(k, v) for k, v in sorted(alert.labels.items()) if k != "alertname"][:MAX_LABELS]
    return " ".join(code(f"{k}={v}", 60) for k, v in shown)


def render(found: Findings) -> str:
    a = found.alert
    lines = [headline(a, found.now, seen=found.start_seen)]
    labels = labels_line(a)
    if labels:
        lines.append(labels)
    if a.summary:
        lines.append(f"> {escape(a.summary)[:300]}")
    lines.append(_signal(found))
    lines.append(_errors(found))
    lines.append(_changes(found))
    lines += _events(found)
    if found.notes:
        lines.append("_Not checked: " + escape("; ".join(found.notes))[:400] + "_")
    if found.pending:
        lines.append("_Still looking at " + escape(", ".join(found.pending)) + "…_")
    return "\n".join(line for line in lines if line)


def _signal(found: Findings) -> str:
    s = found.signal
    if s is None:
        if found.rule_link:
            return f"• Rule: {link(found.rule_link, 'its expression in Explore')}"
        if found.alert.sent_by == "alertmanager":  # a Prometheus (or Mimir, Loki ruler) rule, not Grafana's
            where = link(found.alert.generator_url or None, "the alert in Alertmanager")
            return (
                "• Rule: a Prometheus alerting rule (Alertmanager sent it), not one of Grafana's; its expression is"
                f" in Prometheus' rule files: {where}"
            )
        return "• Rule: not found among Grafana's alert rules, so no expression to chart"
    rule = linked_code(found.rule_link or s.explore_url, s.expr, 120)
    if not s.values:
        return f"• Rule: {rule}"
    last = f", now {link(s.explore_url, num(s.last))}" if s.last is not None else ""
    return f"• Rule: {rule}\n• Last 6 h: {link(s.explore_url, sparkline(s.values))}{last}"


def _errors(found: Findings) -> str:
    if found.selector is None:
        return ""
    if not found.patterns:
        return f"• Loki {code(found.selector, 80)}: no error lines in the last hour"
    lines = link(found.patterns_link, f"{num(found.error_lines)} error lines")
    tops = "; ".join(
        f"{code(p.get('pattern', ''), 90)} ×{link(found.patterns_link, num(p.get('count', 0)))}" for p in found.patterns
    )
    return f"• Loki {code(found.selector, 80)}, last hour: {lines}. Top: {tops}"


def _changes(found: Findings) -> str:
    if not found.changes_checked:
        return ""
    c = found.nearest
    if c is None:
        return f"• Changes: no deploy, push or annotation recorded in the 6 h before {hhmm(found.started)}"
    ref = link(c.url, c.ref[:12])
    kind = escape(c.kind or "change")
    by = f" by {escape(c.author)}" if c.author else ""
    more = len(found.changes) - 1
    also = f" ({num(more)} more in the 6 h before)" if more > 0 else ""
    landed = f"landed {num(found.minutes_before)} min before"
    return f"• Nearest change: {kind} {ref} {code(c.title, 80)}{by}, {landed}{also}"


def _events(found: Findings) -> list[str]:
    out = []
    for e in found.events:
        now, before = link(e.get("link"), num(e["total"])), num(e["previous"])
        out.append(f"• Amplitude: {escape(e['event'])} {now} in the last 3 h vs {before} the 3 h before")
    return out


def resolved_line(resolved_at: datetime, started: datetime, *, seen: bool = False, short: bool = False) -> str:
    """When it resolved and how long it lasted; with `seen`, counted from sitrep's first sighting and said so."""
    minutes = max(0, round((resolved_at - started).total_seconds() / 60))
    lasted = f"{num(minutes)} min" if minutes < 120 else f"{num(round(minutes / 60, 1))} h"
    if seen:
        how = f"resolved at {hhmm(resolved_at)}, {lasted} after sitrep first saw it"
        how += "" if short else f" at {hhmm(started)} (its message carried no start time, so it may have fired earlier)"
    else:
        how = f"resolved at {hhmm(resolved_at)}, lasted {lasted}"
    return how if short else f":white_check_mark: {how}"


def notified_line(times: int) -> str:
    return f"_notified {num(times)} times_" if times > 1 else ""


def instances_text(alert: Alert, instances: list[Alert]) -> str:
    """A title-only message standing for several alerts, told apart by Prometheus' ALERTS series."""
    shared = f" ({escape(' '.join(alert.title_values))})" if alert.title_values else ""
    lines = [
        f":rotating_light: *{escape(alert.name)}*{shared}: the message names {num(len(instances))} firing alerts only"
        " by what they share; Prometheus' ALERTS series tells them apart, and each is investigated in this thread:"
    ]
    for one in instances:
        when = f" since {hhmm(one.starts_at)}" if one.starts_at else ""
        lines.append(f"• {labels_line(one)}{when}")
    return "\n".join(lines)


def unreadable_reply(what: str) -> str:
    return f"This looks like an alert notification, but not one sitrep can read: {escape(what)}."
