"""Rule-based plays over Amplitude (agent events, a user's activity, releases) and the readiness table."""

from __future__ import annotations

import math
import re
from typing import Any

from agent.formatting import Section
from agent.rules.plays import PlayContext
from agent.toolbox import ToolCall, ToolOutcome
from skills.readiness import STATUS_LABEL
from text.mrkdwn import change, code, escape, link, num

FAILURE_NAME = re.compile(r"fail|error|timeout|timed out|crash|exception", re.IGNORECASE)
MAX_EVENT_QUERIES = 3
MAX_HOURS = 72  # query_events compares hours up to this many, within the 7 days hourly segmentation serves
USER_EVENTS_SHOWN = 10


async def agents(ctx: PlayContext) -> Section:
    """Agent events from Amplitude: the failure-like event types (found with list_events), split by error_type."""
    section = Section(f"Agent events ({ctx.when})")
    listed = await ctx.call("amplitude_list_events", name_contains="agent")
    if not listed.ok:
        section.failures.append(listed.error or "")
        return section
    names = [str(e.get("name")) for e in listed.data.get("event_types") or [] if isinstance(e, dict) and e.get("name")]
    if not names:
        section.headline = (
            f"Amplitude has no event types with 'agent' in their name this week "
            f"({link(listed.data.get('link'), 'Amplitude')})."
        )
        return section
    failures = [n for n in names if FAILURE_NAME.search(n)]
    chosen = (failures or names)[:MAX_EVENT_QUERIES]
    w = ctx.plan.window
    # Up to 3 days: the last N complete hours vs the N before (hourly); longer: N days vs the N days before.
    span: dict[str, Any] = (
        {"hours": max(1, math.ceil(w.hours))} if w.hours <= MAX_HOURS else {"days": w.days, "interval": w.interval}
    )
    calls = [
        ToolCall(
            "amplitude_query_events",
            {"event_type": name, **span, "group_by": ["error_type"] if FAILURE_NAME.search(name) else []},
        )
        for name in chosen
    ]
    results = await ctx.toolbox.run(calls)
    headlines = []
    for o in results:
        if not o.ok:
            section.failures.append(o.error or "")
            continue
        line, headline = _event_lines(o)
        section.lines += line
        if headline:
            headlines.append(headline)
    if headlines:
        when = f"in the last {_span(span)}" if "hours" in span else f"over the last {w.days} days"
        section.headline = f"In Amplitude {when}: " + "; ".join(headlines) + "."
    return section


def _event_lines(o: ToolOutcome) -> tuple[list[str], str]:
    d = o.data
    name, total, prev = str(d.get("event_type")), d.get("total", 0), d.get("previous_total", 0)
    delta = change(d.get("change_pct"))
    before = f"the {_span(d.get('window') or {})} before"
    versus = f" ({delta} vs {before}: {num(prev)})" if delta else ""
    lines = [f"• *{escape(name)}*: {link(d.get('link'), num(total))}{versus}"]
    rows = [r for r in d.get("series") or [] if isinstance(r, dict)]
    split = [r for r in rows if str(r.get("label")) not in ("", name)]
    if d.get("group_by") and split:
        parts = [f"{escape(str(r.get('label')))} {num(r.get('total', 0))}" for r in split[:5]]
        lines.append(f"    ◦ by {escape(', '.join(d['group_by']))}: " + " · ".join(parts))
    headline = f"*{num(total)}* {code(name, 60)}{f' ({delta})' if delta else ''}"
    if d.get("group_by") and split and total:
        top = split[0]
        headline += f", most often {escape(str(top.get('label')))} ({num(top.get('total', 0))})"
    if not total and d.get("hint"):
        lines.append(f"    ◦ {escape(str(d['hint']))}")
    return lines, headline


def _span(window: dict[str, Any]) -> str:
    """ "hour", "3 hours", "day", "7 days": the length of a query_events window (both windows have it)."""
    for unit in ("hours", "days"):
        n = window.get(unit)
        if n:
            return unit[:-1] if n == 1 else f"{n} {unit}"
    return "window"


async def user(ctx: PlayContext) -> Section:
    uid = ctx.plan.user_id or ""
    section = Section(f"User {escape(uid)}")
    o = await ctx.call("amplitude_get_user_activity", user_id=uid, limit=20)
    if not o.ok:
        section.failures.append(o.error or "")
        return section
    d = o.data
    if not d.get("found"):
        section.headline = f"Amplitude has no user {code(uid)} ({link(d.get('link'), 'Amplitude')})."
        return section
    events = [e for e in d.get("events") or [] if isinstance(e, dict)]
    profile: dict[str, Any] = d.get("user") or {}
    if not events:
        section.headline = f"User {code(uid)} has no recent events in Amplitude."
        return section
    newest = events[0]
    section.headline = (
        f"User {code(uid)}: {link(d.get('link'), f'{num(len(events))} recent events')}, the newest "
        f"{code(newest.get('event_type', ''), 60)} at {escape(str(newest.get('time', ''))[:16])}."
    )
    facts = [
        f"{k.replace('_', ' ')} {escape(str(profile[k]))}"
        for k in ("first_used", "last_used", "platform", "country", "num_events")
        if profile.get(k) not in (None, "")
    ]
    if facts:
        section.lines.append("• " + " · ".join(facts))
    for e in events[:USER_EVENTS_SHOWN]:
        section.lines.append(f"    ◦ `{escape(str(e.get('time', ''))[:19])}` {escape(str(e.get('event_type', '')))}")
    return section


async def releases(ctx: PlayContext) -> Section:
    days = max(7, ctx.plan.window.days)
    section = Section(f"Releases (last {days} days)")
    o = await ctx.call("amplitude_get_chart_annotations", days=days)
    if not o.ok:
        section.failures.append(o.error or "")
        return section
    rows = [r for r in o.data.get("annotations") or [] if isinstance(r, dict)]
    url = o.data.get("link")
    if not rows:
        section.headline = (
            f"No releases or annotations in Amplitude in the last {days} days ({link(url, 'Amplitude')})."
        )
        return section
    rows.sort(key=lambda r: str(r.get("start") or ""), reverse=True)
    latest = rows[0]
    section.headline = (
        f"{link(url, f'{num(len(rows))} releases/annotations')} in the last {days} days; the latest is "
        f"*{escape(str(latest.get('label', '?')))}* ({escape(str(latest.get('start', ''))[:16])})."
    )
    for r in rows[:10]:
        details = f": {escape(str(r['details'])[:140])}" if r.get("details") else ""
        section.lines.append(f"• {escape(str(r.get('start', ''))[:16])} *{escape(str(r.get('label', '')))}*{details}")
    return section


async def status(ctx: PlayContext) -> Section:
    """The readiness table (no tools): which integration is ready, and the next step for the others."""
    section = Section("Integrations")
    if ctx.team is None or ctx.readiness is None:
        return section
    rows = await ctx.readiness(ctx.team)
    ready = [r.integration for r in rows if r.ready]
    section.headline = f"{len(ready)} of {len(rows)} integrations are ready" + (
        f" ({', '.join(ready)})." if ready else "."
    )
    for r in rows:
        line = f"• *{escape(r.integration)}*: {STATUS_LABEL[r.status]}"
        line += f", {escape(r.detail)}" if r.ready and r.detail else ""
        line += "" if r.ready else f": {escape(r.missing)}. Next: {escape(r.next_step)}"
        section.lines.append(line)
    return section
