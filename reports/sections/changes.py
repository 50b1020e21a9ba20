"""Changes beside the error numbers: the window's deploys, pushes and Grafana annotations (skills/changes), as a
listing of the Grafana section, and, for each jump of the error or latency series, the nearest earlier change with
its link, or that none landed in the window before it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from reports.model import Figure, Item, Listing
from skills.changes import ChangeWindow, Jump, collect, find_jump, nearest_before
from storage.changes import Change
from text.mrkdwn import quantity

if TYPE_CHECKING:
    from agent.services import Services
    from storage.teams import Team

MAX_CHANGES = 8
TITLE = "Changes (deploys, pushes, annotations)"
JUMPS_TITLE = "Jumps and the change before them"
JUMPING = ("Error lines", "5xx responses", "p95 latency")


async def window_changes(services: Services, team: Team, start: datetime, end: datetime) -> ChangeWindow:
    """The window's changes from every source. Asked at the start of a report, beside the sections: nothing in it
    waits on their numbers (only `changes_listings`, which matches jumps to them, does)."""
    return await collect(services, team, start, end)


def changes_listings(window: ChangeWindow, figures: list[Figure], end: datetime, tz: str) -> list[Listing]:
    """The window's changes, newest first, and the jumps of `figures` with the change before each."""
    out: list[Listing] = []
    zone = ZoneInfo(tz)
    if window.changes:
        items = [_item(c, zone, len({c.subject for c in window.changes}) > 1) for c in window.changes[:MAX_CHANGES]]
        note = f"{len(window.changes) - MAX_CHANGES} more" if len(window.changes) > MAX_CHANGES else ""
        out.append(Listing(TITLE, items, note=note))
    jumps = [(f.label, j) for f in figures if f.label in JUMPING and (j := figure_jump(f, end)) is not None]
    if jumps:
        out.append(Listing(JUMPS_TITLE, [_jump_item(label, j, window.changes, zone) for label, j in jumps]))
    if window.unavailable and out:
        out[-1].note = "; ".join([out[-1].note, *window.unavailable]).strip("; ")
    return out


def figure_jump(figure: Figure, end: datetime) -> Jump | None:
    """The figure's series (its steps ending at `end`) through the one jump rule (skills/changes/jumps.py)."""
    series, step = figure.series, figure.step_s
    if len(series) < 2 or step <= 0:
        return None
    first = end - timedelta(seconds=step * len(series))
    return find_jump(series, first, timedelta(seconds=step), figure.unit)


def _jump_item(what: str, jump: Jump, changes: list[Change], zone: ZoneInfo) -> Item:
    rise = f"{quantity(jump.before, jump.unit)} → {quantity(jump.after, jump.unit)}"
    label = f"{what} jumped {rise} at {jump.start.astimezone(zone):%H:%M}"
    nearest = nearest_before(changes, jump.end)
    if nearest is None:
        return Item(label, detail="no deploy, push or annotation recorded in the window before it")
    minutes = round((jump.start - nearest.at).total_seconds() / 60)
    gap = f"{minutes} min before" if minutes >= 1 else f"within the same {jump.step_minutes}-min step"
    what = f"{nearest.kind} {nearest.title[:80] or nearest.short_ref}".strip()
    return Item(label, detail=f"nearest earlier change: {what}, {gap}", link=nearest.url, link_label=nearest.short_ref)


def _item(c: Change, zone: ZoneInfo, many: bool) -> Item:
    when = c.at.astimezone(zone)
    subject = c.subject if many else ""
    detail = " ".join(p for p in (c.kind, subject, f"by {c.author}" if c.author else "", f"at {when:%H:%M}") if p)
    return Item(c.title[:100] or c.short_ref, detail=detail, link=c.url, link_label=c.short_ref)
