"""Changes beside the errors: the window's deploys, pushes and Grafana annotations (recent_changes), and, when the
error series jumps, how long before the jump the nearest earlier change landed, or that none did in the window.

Without a change in the window and without a jump, the section stays empty and the answer is as without it.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from agent.formatting import Section
from agent.rules.plays import PlayContext
from skills.grafana.timeutil import TimeRange
from text.mrkdwn import code, escape, link, num

TOOL = "recent_changes"
MAX_HOURS = 24 * 14  # the tool's limit
SHOWN = 5
JUMP_POINTS = 20  # the error series in at most this many buckets (a result lists values up to 24 points)
MIN_RISE = 3  # a jump: at least this many more error lines than the bucket before, and at least double
KINDS = {"push": "push", "deploy": "deploy", "annotation": "annotation"}


@dataclass(frozen=True)
class Jump:
    start: datetime  # the bucket the errors rose in starts here…
    end: datetime  # …and ends here
    before: float
    after: float


async def deploys(ctx: PlayContext) -> Section:
    """The window's changes, newest first, and the one that landed nearest before an error jump."""
    section = Section("Changes (deploys, pushes, annotations)")
    if not ctx.toolbox.has(TOOL):
        return section
    window = ctx.plan.window
    args: dict[str, Any] = {"hours": max(1, min(MAX_HOURS, math.ceil(window.hours)))}
    if not window.ends_now and window.start is not None and window.end is not None:  # a window in the past
        span = math.ceil((window.end - window.start).total_seconds() / 3600)
        args = {"hours": max(1, min(MAX_HOURS, span)), "end": window.end.astimezone(UTC).isoformat()}
    o, (jump, series) = await asyncio.gather(ctx.call(TOOL, **args), error_jump(ctx))
    if not o.ok:
        section.failures.append(o.error or "")
        return section
    changes = in_window(o.data.get("changes") or [], ctx.plan.window.start, ctx.plan.window.end)
    if jump:
        rise = f"{num(jump.before)} → {num(jump.after)} error lines per {bucket_minutes(jump)} min"
        section.lines.append(f"• {link(series, 'Errors jumped')} at {jump.start:%H:%M} UTC ({rise}).")
    if not changes:
        if jump:
            section.headline = (
                f"No deploy, push or annotation recorded {ctx.within} before the error jump at {jump.start:%H:%M} UTC."
            )
        return section
    many_subjects = len({c.get("subject") for c in changes}) > 1
    nearest = nearest_before(changes, jump.end) if jump else None
    if jump and nearest:
        minutes = (jump.start - when(nearest)).total_seconds() / 60
        gap = (
            f"landed {num(round(minutes))} min before"
            if minutes >= 1
            else f"landed in the {bucket_minutes(jump)}-min interval of"
        )
        section.headline = (
            f"{_kind(nearest)} {_change_link(nearest)} ({code(nearest.get('title', ''), 60)}) {gap} the error jump "
            f"at {jump.start:%H:%M} UTC."
        )
    elif jump:
        section.headline = f"No change recorded {ctx.within} before the error jump at {jump.start:%H:%M} UTC."
    else:
        s = "s" if len(changes) != 1 else ""
        section.headline = (
            f"{num(len(changes))} change{s} {ctx.within}, the newest {_kind(changes[0]).lower()} "
            f"{_change_link(changes[0])} at {when(changes[0]):%H:%M} UTC."
        )
    for c in changes[:SHOWN]:
        where = f"{escape(str(c.get('subject')))} " if many_subjects else ""
        by = f" by {escape(str(c['author']))}" if c.get("author") else ""
        section.lines.append(
            f"• {_kind(c)} {where}{_change_link(c)} {code(c.get('title', ''), 80)}{by} at {when(c):%H:%M} UTC"
        )
    if len(changes) > SHOWN:
        section.lines.append(f"• …and {num(len(changes) - SHOWN)} more")
    return section


async def error_jump(ctx: PlayContext) -> tuple[Jump | None, str | None]:
    """(the largest rise of the error series, the series' Explore link): error lines counted per bucket."""
    found = await ctx.selector()
    if not isinstance(found, tuple):
        return None, None
    args = ctx.range
    step = TimeRange.resolve(args.get("since"), args.get("start"), args.get("end")).step(max_points=JUMP_POINTS)
    base = " ".join(p for p in (found[1], ctx.base_filters, ctx.error_filter) if p)
    query = f"sum(count_over_time({base} [{step}s]))"
    o = await ctx.call("grafana_query_loki", query=query, **args, step=f"{step}s")
    if not o.ok:
        return None, None
    points: dict[datetime, float] = {}
    for row in o.data.get("series") or []:
        for pair in row.get("values") or [] if isinstance(row, dict) else []:
            if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], (int, float)):
                at = parse_time(str(pair[0]))
                points[at] = points.get(at, 0.0) + float(pair[1])
    first = parse_time(str(o.data.get("start"))) if isinstance(o.data.get("start"), str) else None
    return find_jump(points, timedelta(seconds=step), first), o.data.get("explore_url")


def find_jump(points: dict[datetime, float], step: timedelta, first: datetime | None) -> Jump | None:
    """The largest rise over one step that at least doubles the count and adds MIN_RISE. A step with no point
    counted no line (Loki leaves it out), so it is 0 when it lies inside the range (from `first` on)."""
    best: Jump | None = None
    for t1, after in sorted(points.items()):
        t0 = t1 - step
        if t0 not in points and (first is None or t0 < first):
            continue
        before = points.get(t0, 0.0)
        rise = after - before
        if rise >= max(MIN_RISE, before) and (best is None or rise > best.after - best.before):
            best = Jump(t0, t1, before, after)
    return best


def nearest_before(changes: list[dict[str, Any]], end: datetime) -> dict[str, Any] | None:
    """The latest change that landed before the end of the bucket the errors rose in."""
    earlier = [c for c in changes if when(c) <= end]
    return max(earlier, key=when, default=None)


def in_window(rows: list[Any], start: datetime | None, end: datetime | None) -> list[dict[str, Any]]:
    """The changes with a readable time inside [start, end], newest first."""
    out = []
    for c in rows:
        if not isinstance(c, dict) or not isinstance(c.get("time"), str):
            continue
        try:
            at = when(c)
        except ValueError:
            continue
        if (start is None or at >= start) and (end is None or at <= end):
            out.append(c)
    return sorted(out, key=when, reverse=True)


def when(change: dict[str, Any]) -> datetime:
    return parse_time(str(change.get("time")))


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def bucket_minutes(jump: Jump) -> str:
    return num(round((jump.end - jump.start).total_seconds() / 60))


def _change_link(change: dict[str, Any]) -> str:
    return link(change.get("url"), str(change.get("ref", "")))


def _kind(change: dict[str, Any]) -> str:
    kind = KINDS.get(str(change.get("kind")), "change")
    return {"push": "Push", "deploy": "Deploy", "annotation": "Annotation"}.get(kind, "Change")
