"""What is new since the last report of the same job: error patterns that are new, alerts that started or
resolved, figures whose change crossed a threshold; the rest is one "unchanged since 08:00" line.

`snapshot_of(report)` is what a posted report keeps (storage/report_snapshots.py); `since_section(previous, report)`
compares the next report with it and gives the section reports/post.py puts first. Pure functions over
reports/model.py, so a test can build both reports by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from reports.model import Item, Listing, Report, Section, change_pct
from text.mrkdwn import quantity

if TYPE_CHECKING:
    from storage.alerts import Investigation

KEY = "since_last"
PATTERNS = "Top error patterns"
ALERTS_FIGURE, ALERTS_LISTING = "Firing alerts", "Firing alerts"
THRESHOLD_PCT = 25.0  # a figure moved when it changed by at least this much since the last report…
MIN_POINTS = {"%": 0.5}  # …and, for a percentage, by at least this many points
SHOWN = 8


def snapshot_of(report: Report) -> dict[str, Any]:
    """The figures, error patterns and firing alerts a report showed (only those it could read)."""
    figures: dict[str, Any] = {}
    patterns: list[str] | None = None
    alerts: list[str] | None = None
    for section in report.sections:
        if not section.ok:
            continue
        for f in section.figures:
            if f.label != ALERTS_FIGURE and isinstance(f.value, int | float):
                figures[f"{section.key}:{f.label}"] = {"label": f.label, "value": f.value, "unit": f.unit}
            if f.label == ALERTS_FIGURE:
                listing = _listing(section, ALERTS_LISTING)
                alerts = sorted({i.label for i in listing.items}) if listing else []
        listing = _listing(section, PATTERNS)
        if listing is not None:
            patterns = [i.label for i in listing.items]
    return {"figures": figures, "patterns": patterns, "alerts": alerts}


def since_section(
    previous: dict[str, Any], previous_at: datetime, report: Report, investigated: Sequence[Investigation] = ()
) -> Section:
    """The "Since the last report (HH:MM)" section: what changed since `previous`, and what did not.

    `investigated`: the alerts sitrep investigated that started or resolved since then (storage/alerts.py), so
    an alert that fired and resolved between two reports is listed too, with its thread and how long it lasted."""
    zone = ZoneInfo(report.timezone)
    when = previous_at.astimezone(zone).strftime("%H:%M")
    now = snapshot_of(report)
    section = Section(KEY, f"Since the last report ({when})", window=f"vs the report of {when}")
    unchanged: list[str] = []
    _patterns(section, previous.get("patterns"), now["patterns"], unchanged)
    _alerts(section, previous.get("alerts"), now["alerts"], unchanged, list(investigated), previous_at, zone)
    _figures(section, previous.get("figures") or {}, now["figures"], unchanged)
    if unchanged:
        section.lines.append(f"Unchanged since {when}: {', '.join(unchanged)}")
    if not section.listings:
        section.lines.insert(0, f"Nothing new since {when}.")
    return section


def _patterns(section: Section, before: Any, now: list[str] | None, unchanged: list[str]) -> None:
    if not isinstance(before, list) or now is None:
        return
    new = [p for p in now if p not in before]
    if new:
        section.listings.append(Listing("New error patterns", [Item(p, code=True) for p in new[:SHOWN]]))
    else:
        unchanged.append("error patterns")


def _alerts(
    section: Section,
    before: Any,
    now: list[str] | None,
    unchanged: list[str],
    investigated: list[Investigation],
    since: datetime,
    zone: ZoneInfo,
) -> None:
    started: list[Item] = []
    resolved: list[Item] = []
    if isinstance(before, list) and now is not None:
        started = [Item(a) for a in now if a not in before]
        resolved = [Item(a) for a in before if isinstance(a, str) and a not in now]
    for inv in investigated:
        if inv.resolved_at is not None and inv.resolved_at >= since:
            lasted = round((inv.resolved_at - inv.starts_at).total_seconds() / 60)
            detail = f"resolved at {inv.resolved_at.astimezone(zone):%H:%M}, lasted {quantity(lasted)} min"
            resolved = [i for i in resolved if i.label != inv.alert_name]
            resolved.append(Item(inv.alert_name, detail=detail))
        elif inv.starts_at >= since and not any(i.label == inv.alert_name for i in started):
            started.append(Item(inv.alert_name, detail=f"since {inv.starts_at.astimezone(zone):%H:%M}, investigated"))
    if started:
        section.listings.append(Listing("Alerts started since the last report", started[:SHOWN]))
    if resolved:
        section.listings.append(Listing("Alerts resolved since the last report", resolved[:SHOWN]))
    if not started and not resolved and now is not None and isinstance(before, list):
        unchanged.append("alerts (" + (", ".join(now) + " still firing" if now else "none firing") + ")")


def _figures(section: Section, before: dict[str, Any], now: dict[str, Any], unchanged: list[str]) -> None:
    moved: list[Item] = []
    for key, figure in now.items():
        old = before.get(key)
        if not isinstance(old, dict) or not isinstance(old.get("value"), int | float):
            continue
        if _crossed(old["value"], figure["value"], figure.get("unit", "")):
            unit = figure.get("unit", "")
            pct = change_pct(figure["value"], old["value"])
            change = f", {'+' if (pct or 0) > 0 else ''}{pct:g}%" if pct is not None else ""
            detail = f"{quantity(old['value'], unit)} → {quantity(figure['value'], unit)}{change}"
            moved.append(Item(figure["label"], detail=detail))
        else:
            unchanged.append(str(figure["label"]))
    if moved:
        section.listings.append(Listing(f"Moved by {THRESHOLD_PCT:g}% or more", moved[:SHOWN]))


def _crossed(old: float, new: float, unit: str) -> bool:
    if abs(new - old) < MIN_POINTS.get(unit, 0.0):
        return False
    if old == 0:
        return new != 0
    return abs(new - old) / abs(old) * 100 >= THRESHOLD_PCT


def _listing(section: Section, title: str) -> Listing | None:
    return next((listing for listing in section.listings if listing.title == title), None)
