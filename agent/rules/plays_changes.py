"""Changes beside the errors: the window's deploys, pushes and Grafana annotations (recent_changes), and, when the
error series jumps, how long before the jump the nearest earlier change landed, or that none did in the window.

Without a change in the window and without a jump, the section stays empty and the answer is as without it.
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from agent.formatting import Section
from agent.rules.plays import PlayContext
from skills.changes.jumps import Jump, counts_by_step, find_jump, in_window, nearest_before
from skills.grafana.timeutil import TimeRange
from storage.changes import Change
from storage.times import parse
from text.mrkdwn import code, escape, link, num

TOOL = "recent_changes"
MAX_HOURS = 24 * 14  # the tool's limit
SHOWN = 5
JUMP_POINTS = 20  # the error series in at most this many buckets (a result lists values up to 24 points)
KINDS = {"push": "Push", "deploy": "Deploy", "annotation": "Annotation"}


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
    changes = in_window(from_rows(o.data.get("changes")), ctx.plan.window.start, ctx.plan.window.end)
    if jump:
        rise = f"{num(jump.before)} → {num(jump.after)} error lines per {bucket_minutes(jump)} min"
        section.lines.append(f"• {link(series, 'Errors jumped')} at {jump.start:%H:%M} UTC ({rise}).")
    if not changes:
        if jump:
            section.headline = (
                f"No deploy, push or annotation recorded {ctx.within} before the error jump at {jump.start:%H:%M} UTC."
            )
        return section
    many_subjects = len({c.subject for c in changes}) > 1
    nearest = nearest_before(changes, jump.end) if jump else None
    if jump and nearest:
        minutes = (jump.start - nearest.at).total_seconds() / 60
        gap = (
            f"landed {num(round(minutes))} min before"
            if minutes >= 1
            else f"landed in the {bucket_minutes(jump)}-min interval of"
        )
        section.headline = (
            f"{_kind(nearest)} {_change_link(nearest)} ({code(nearest.title, 60)}) {gap} the error jump "
            f"at {jump.start:%H:%M} UTC."
        )
    elif jump:
        section.headline = f"No change recorded {ctx.within} before the error jump at {jump.start:%H:%M} UTC."
    else:
        s = "s" if len(changes) != 1 else ""
        section.headline = (
            f"{num(len(changes))} change{s} {ctx.within}, the newest {_kind(changes[0]).lower()} "
            f"{_change_link(changes[0])} at {changes[0].at:%H:%M} UTC."
        )
    for c in changes[:SHOWN]:
        where = f"{escape(c.subject)} " if many_subjects else ""
        by = f" by {escape(c.author)}" if c.author else ""
        section.lines.append(f"• {_kind(c)} {where}{_change_link(c)} {code(c.title, 80)}{by} at {c.at:%H:%M} UTC")
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
                at = parse(str(pair[0]))
                points[at] = points.get(at, 0.0) + float(pair[1])
    first = parse(o.data["start"]) if isinstance(o.data.get("start"), str) else None
    every = timedelta(seconds=step)
    values = counts_by_step(points, every, first)
    start = first if first is not None else min(points, default=None)
    # Loki stamps a count_over_time step with its end: the value at `start` counted (start - step, start]
    jump = find_jump(values, start - every, every) if start is not None else None
    return jump, o.data.get("explore_url")


def from_rows(rows: Any) -> list[Change]:
    """The `recent_changes` tool's rows as changes (a row without a readable time is left out)."""
    return [c for c in map(Change.from_dict, rows if isinstance(rows, list) else []) if c is not None]


def bucket_minutes(jump: Jump) -> str:
    return num(jump.step_minutes)


def _change_link(change: Change) -> str:
    return link(change.url, change.ref)


def _kind(change: Change) -> str:
    return KINDS.get(change.kind, "Change")
