"""The agent's Amplitude tools: each handler declared beside its parameter model (skills/amplitude/params.py) and
read-only hint; results are plain data, bounded to ~8 KB."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from skills.amplitude.client import interval_for
from skills.amplitude.events import visible_by_volume
from skills.amplitude.links import analytics_home
from skills.amplitude.params import (
    MAX_HOURLY_DAYS,
    AnnotationsParams,
    ListEventsParams,
    QueryEventsParams,
    UserActivityParams,
)
from skills.amplitude.segmentation import Series, change_pct, number
from skills.amplitude.users import best_match
from skills.base import Tool, ToolSpec
from skills.results import RESULT_BUDGET_BYTES, bounded, fit_rows, serialized_size

if TYPE_CHECKING:
    from skills.amplitude.api import AmplitudeProject

HOUR = timedelta(hours=1)
UNIQUES_NOTE = "uniques per bucket; window totals add the buckets up, so a user seen on two days counts twice"


def _window(start: date, end: date) -> dict[str, Any]:
    return {"start": start.isoformat(), "end": end.isoformat(), "days": (end - start).days + 1}


async def query_events(skill: AmplitudeProject, p: QueryEventsParams) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "metric": p.metric,
        "filters": [f.to_filter() for f in p.filters],
        "group_by": p.group_by,
        "limit": 100 if p.group_by else None,
    }
    if p.hours:
        return await _query_hours(skill, p, kwargs)
    start, end = p.dates(skill.today())
    days = (end - start).days + 1
    # Hourly serves 7 days, and one call covers this window and the one before it: choose from the whole range.
    interval = interval_for(p.interval, start - timedelta(days=days), end)
    previous, current, (prev_start, prev_end) = await skill.client.segmentation_vs_previous(
        p.event_type, start, end, interval=interval, **kwargs
    )
    result = _compare(p, previous, current, interval, _window(start, end), _window(prev_start, prev_end))
    if interval != p.interval:
        result["note"] = (
            f"{p.interval}ly buckets serve at most {MAX_HOURLY_DAYS} days with the previous window included; "
            f"these are daily. {result.get('note', '')}"
        ).strip()
    return _finish(skill, p, result, current)


async def _query_hours(skill: AmplitudeProject, p: QueryEventsParams, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The last `hours` complete hours vs as many hours before them, from one hourly call."""
    end = skill.now().astimezone(UTC).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    start, prev_start = end - timedelta(hours=p.hours or 1), end - timedelta(hours=2 * (p.hours or 1))
    series = await skill.client.segmentation(
        p.event_type, prev_start.date(), (end - timedelta(hours=1)).date(), interval="hour", **kwargs
    )
    previous, current = series.between(prev_start, start), series.between(start, end)
    result = _compare(p, previous, current, "hour", _hours(start, end), _hours(prev_start, start))
    result["note"] = (
        f"complete hours only (the current hour is still filling); hours of the project's time zone, taken as UTC. "
        f"{result.get('note', '')}"
    ).strip()
    return _finish(skill, p, result, current)


def _hours(start: datetime, end: datetime) -> dict[str, Any]:
    return {"start": f"{start:%Y-%m-%dT%H:%M}", "end": f"{end:%Y-%m-%dT%H:%M}", "hours": (end - start) // HOUR}


def _compare(
    p: QueryEventsParams,
    previous: Series,
    current: Series,
    interval: str,
    window: dict[str, Any],
    previous_window: dict[str, Any],
) -> dict[str, Any]:
    before = {r.label: r.total for r in previous.rows}
    rows: list[dict[str, Any]] = []
    for r in current.rows:
        prev = before.get(r.label, 0)
        rows.append(
            {
                "label": r.label,
                "total": r.total,
                "previous_total": prev,
                "change_pct": change_pct(r.total, prev),
                "values": r.values,
            }
        )
    rows.sort(key=lambda r: (-r["total"], -r["previous_total"], r["label"]))
    total, prev_total = current.total, previous.total
    result: dict[str, Any] = {
        "event_type": p.event_type,
        "metric": p.metric,
        "interval": interval,
        "window": window,
        "previous_window": previous_window,
        "total": total,
        "previous_total": prev_total,
        "change_pct": change_pct(total, prev_total),
        "rows": rows,
    }
    if p.filters:
        result["filters"] = [f.model_dump() for f in p.filters]
    if p.group_by:
        result["group_by"] = p.group_by
    if p.metric == "uniques":
        result["note"] = UNIQUES_NOTE
    return result


def _finish(skill: AmplitudeProject, p: QueryEventsParams, result: dict[str, Any], current: Series) -> dict[str, Any]:
    rows = result.pop("rows")
    if result["interval"] == "hour" and current.x_values:
        result.update(x_first=current.x_values[0], x_last=current.x_values[-1], points=len(current.x_values))
    else:
        result["x_values"] = current.x_values
    result["link"] = analytics_home(skill.region)
    if not result["total"] and not result["previous_total"]:
        result["hint"] = (
            f"no '{p.event_type}' events in either window; check the exact name with list_events"
            " (names are case-sensitive)"
        )
    return _fit_series(result, rows, p.top)


def _fit_series(result: dict[str, Any], rows: list[dict[str, Any]], top: int) -> dict[str, Any]:
    """The busiest `top` labels with their values; when those do not fit, values for the first few only."""
    hint = "narrow with filters, fewer group-bys, a shorter window or a coarser interval"
    budget = RESULT_BUDGET_BYTES - serialized_size(result) - 250
    kept, cut = fit_rows(rows[:top], budget)
    if cut:
        kept, _ = fit_rows(rows[:top], budget // 2)
        compact = [{k: v for k, v in r.items() if k != "values"} for r in rows[len(kept) : top]]
        rest, _ = fit_rows(compact, budget - serialized_size(kept))
        hint = f"values for the first {len(kept)} only; {hint}"
        kept = kept + rest
    result["series"] = kept
    if len(kept) < len(rows):
        result["truncated"] = True
        result["hint"] = f"showing {len(kept)} of {len(rows)} labels, busiest first; {hint}"
    elif cut:
        result["truncated"] = True
        result["hint"] = hint[0].upper() + hint[1:]
    return result


async def get_user_activity(skill: AmplitudeProject, p: UserActivityParams) -> dict[str, Any]:
    link = analytics_home(skill.region)
    matches = await skill.client.user_search(p.user_id)
    match = best_match(matches, p.user_id)
    if match is None:
        return {
            "found": False,
            "user_id": p.user_id,
            "link": link,
            "hint": "no Amplitude user or device has this id; check the id, or whether the app sends events "
            "with user_id set",
        }
    activity = await skill.client.user_activity(match.amplitude_id, limit=p.limit)
    result: dict[str, Any] = {
        "found": True,
        "user_id": match.user_id or p.user_id,
        "amplitude_id": match.amplitude_id,
        "user": activity.user,
        "other_matches": len(matches) - 1,
        "count": len(activity.events),
        "link": link,
    }
    events = [e.to_dict() for e in activity.events]
    return bounded(result, "events", events, hint="ask for a smaller limit")


async def get_chart_annotations(skill: AmplitudeProject, p: AnnotationsParams) -> dict[str, Any]:
    start, end = p.dates(skill.today())
    rows, source = await skill.client.annotations(start, end)
    result: dict[str, Any] = {
        "window": _window(start, end),
        "source": f"/api/{source[1:]}/annotations",
        "count": len(rows),
        "link": analytics_home(skill.region),
    }
    if not rows:
        result["hint"] = "no releases or annotations in this window; a longer window may find older ones"
    return bounded(result, "annotations", [r.to_dict() for r in rows], hint="use a shorter window")


async def list_events(skill: AmplitudeProject, p: ListEventsParams) -> dict[str, Any]:
    events = await skill.client.events_list()
    visible = visible_by_volume(events)
    if p.name_contains:
        needle = p.name_contains.lower()
        visible = [e for e in visible if needle in e.name.lower() or needle in e.display_name.lower()]
    week_total = number(sum(e.totals for e in visible))
    result: dict[str, Any] = {
        "count": len(visible),
        "events_this_week": week_total,
        "hidden_or_deleted": sum(1 for e in events if e.deleted or e.hidden),
        "link": analytics_home(skill.region),
    }
    if not week_total:
        result["hint"] = "no events this week: the app may not send events yet (see readiness and the tracking snippet)"
    rows = [e.to_dict() for e in visible]
    return bounded(result, "event_types", rows[: p.limit], hint="use name_contains to narrow", total=len(rows))


TOOLS: tuple[ToolSpec[AmplitudeProject], ...] = (
    ToolSpec(
        name="query_events",
        description=(
            "Amplitude product events over time: counts (totals) or users (uniques) of one event type per "
            "day, hour or week, optionally filtered by properties and split by up to 2 properties. Returns "
            "each label's values and total, the previous window of the same length and the change in percent. "
            "Call list_events first when unsure of the exact event name."
        ),
        params=QueryEventsParams,
        handler=query_events,
    ),
    ToolSpec(
        name="get_user_activity",
        description=(
            "One user's recent Amplitude events, newest first, with a short profile (first/last seen, "
            "platform, country). Takes the app's user id. found=false means no such user in Amplitude."
        ),
        params=UserActivityParams,
        handler=get_user_activity,
    ),
    ToolSpec(
        name="get_chart_annotations",
        description=(
            "Releases and chart annotations (deploy markers with notes) in Amplitude for a window: use it "
            "to see whether a change in events lines up with a release."
        ),
        params=AnnotationsParams,
        handler=get_chart_annotations,
    ),
    ToolSpec(
        name="list_events",
        description=(
            "The event types the app sends to Amplitude with this week's volume, busiest first (deleted and "
            "hidden ones left out). Use it to find exact event names for query_events, or to see whether "
            "any events arrive at all."
        ),
        params=ListEventsParams,
        handler=list_events,
    ),
)


def build_tools(skill: AmplitudeProject) -> list[Tool]:
    """The four read-only tools, bound to one skill (its client, region and clock)."""
    return [spec.bind("amplitude", skill) for spec in TOOLS]
