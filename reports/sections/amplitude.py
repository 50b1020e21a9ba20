"""The Amplitude section: agent runs, failure rate, top error_type, API errors by endpoint, releases.

Window: the last 7 days (today so far included) vs the 7 days before, in daily buckets of the project's time
zone (the Dashboard REST API counts days in it). A one-day window would compare today so far with all of
yesterday, so its arrows would mostly tell the time of day the report runs; over 7 days the partial day
weighs at most a seventh, and the 7 daily bars of each sparkline still show a spike today. `days` changes it.

Five requests, all issued at once, none waiting on another's answer: two segmentations of two events each
(`e` and `e2`: Started with Completed, Failed with Timeout), each covering both windows (split in code), the
two group-bys, and the annotations. Amplitude runs 5 requests of a project at once, so the section is one
round trip.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from reports.model import Figure, Item, Listing, Section, failed, finite, no_data
from skills.amplitude.client import AmplitudeClient
from skills.amplitude.links import analytics_home
from skills.amplitude.readiness import INSTRUMENT_STEP
from skills.amplitude.segmentation import NONE_LABEL, UNLABELLED, Series, SeriesRow, number
from skills.amplitude.skill import AmplitudeSkill
from skills.base import SkillError
from text.sparkline import sparkline

KEY, TITLE = "amplitude", "Amplitude"
STARTED, COMPLETED, FAILED, TIMEOUT = "Agent Started", "Agent Completed", "Agent Failed", "Agent Timeout"
AGENT_EVENTS = (STARTED, COMPLETED, FAILED, TIMEOUT)
EVENT_PAIRS = ((STARTED, COMPLETED), (FAILED, TIMEOUT))  # one segmentation call each (e and e2)
API_ERROR = "API Error"
GROUP_LIMIT = 100
TOP = 5
NO_EVENTS = "Amplitude has no events yet: the app must send them"
PLACEHOLDERS = (NONE_LABEL, UNLABELLED)  # labels that name no value: listed, never the summary's "top"


@dataclass(frozen=True)
class DayWindow:
    today: date
    days: int = 7

    @property
    def current_start(self) -> date:
        return self.today - timedelta(days=self.days - 1)

    @property
    def previous_start(self) -> date:
        return self.current_start - timedelta(days=self.days)

    def nothing(self) -> list[float]:
        return [0.0] * (2 * self.days)

    def halves(self, days: list[float]) -> tuple[list[float], list[float]]:
        """(the previous window's days, the current window's days) of a list over both."""
        return days[: self.days], days[self.days :]

    def daily(self, series: Series) -> list[float]:
        """The series summed over its rows, one value per day of both windows, oldest first."""
        out = self.nothing()
        for row in series.rows:
            out = [a + b for a, b in zip(out, self.row_daily(series, row), strict=True)]
        return out

    def row_daily(self, series: Series, row: SeriesRow) -> list[float]:
        """One row per day of both windows: placed by its x value (a date), or by position from the first day when
        the answer has none; values outside the windows (or on x values that are not dates) are left out."""
        out = self.nothing()
        for i, value in enumerate(row.values):
            day = _day(series.x_values[i]) if i < len(series.x_values) else None
            k = (day - self.previous_start).days if day is not None else i if not series.x_values else -1
            if 0 <= k < len(out):
                out[k] += number(value)
        return out

    def describe(self) -> str:
        span = "today so far" if self.days == 1 else f"last {self.days} days"
        before = "yesterday" if self.days == 1 else f"the {self.days} before"
        return f"{span} vs {before} (days in the project's time zone)"


def calls(client: AmplitudeClient, window: DayWindow) -> dict[Any, Any]:
    """The section's requests, as coroutines keyed by name: started together, queued by the client's semaphore."""
    first, last = window.previous_start, window.today
    out: dict[Any, Any] = {
        pair: client.segmentation_pair(*pair, first, last, interval=1, metric="totals") for pair in EVENT_PAIRS
    }
    out["error_type"] = client.segmentation(
        FAILED, first, last, interval=1, metric="totals", group_by=["error_type"], limit=GROUP_LIMIT
    )
    out["endpoint"] = client.segmentation(
        API_ERROR, first, last, interval=1, metric="totals", group_by=["endpoint"], limit=GROUP_LIMIT
    )
    out["releases"] = client.annotations(window.current_start, window.today)
    return out


async def amplitude_section(skill: AmplitudeSkill | None, days: int = 7, today: date | None = None) -> Section:
    """The section, never raising for an upstream problem: a failed or no-data section says why in one line."""
    if skill is None:
        return no_data(KEY, TITLE, "this build of sitrep has no Amplitude skill", "update sitrep")
    if not skill.configured:
        missing = " and ".join(skill.missing_variables())
        return no_data(
            KEY,
            TITLE,
            f"Amplitude is not configured: {missing} not set",
            f"set {missing} (Amplitude → Settings → Projects → API keys), or save the keys from the Home tab",
        )
    window = DayWindow(today or skill.today(), days)
    pending = calls(skill.client, window)
    values = await asyncio.gather(*pending.values(), return_exceptions=True)
    results: dict[Any, Any] = dict(zip(pending, values, strict=True))
    for pair in EVENT_PAIRS:
        if isinstance(results[pair], BaseException):
            exc = _as_skill_error(results[pair])
            return failed(KEY, TITLE, exc.message, exc.hint or "try again later", window=window.describe())
    # Every series onto the window's own days (both windows, oldest first), whatever x values each answer carried.
    daily = {e: window.daily(series) for pair in EVENT_PAIRS for e, series in zip(pair, results[pair], strict=True)}
    endpoint = results["endpoint"]
    api_errors = window.daily(endpoint) if isinstance(endpoint, Series) else None
    if not any(any(d) for d in [*daily.values(), api_errors or []]):
        return no_data(KEY, TITLE, NO_EVENTS, INSTRUMENT_STEP, window=window.describe())
    link = analytics_home(skill.region)
    section = Section(KEY, TITLE, window=window.describe(), link=link, link_label="Amplitude")
    for event in AGENT_EVENTS:
        section.figures.append(_count(event, daily.get(event) or window.nothing(), window, link))
    section.figures.append(_failure_rate(daily, window, link))
    if api_errors is not None:
        section.figures.append(_count("API errors", api_errors, window, link))
    _grouped(section, results["error_type"], window, "Top error_type (Agent Failed)", "error_type", link)
    _grouped(section, endpoint, window, "API errors by endpoint", "API errors by endpoint", link)
    _releases(section, results["releases"])
    return section


def _count(label: str, days: list[float], window: DayWindow, link: str) -> Figure:
    previous, current = window.halves(days)
    return Figure(
        label, number(sum(current)), number(sum(previous)), sparkline=sparkline(current), link=link,
        link_label="Amplitude",
    )  # fmt: skip


def _failure_rate(daily: dict[str, list[float]], window: DayWindow, link: str) -> Figure:
    def rate(bad: float, started: float) -> float | None:
        return finite(bad / started * 100, 2) if started else None

    started, failed_, timeouts = (window.halves(daily.get(e) or window.nothing()) for e in (STARTED, FAILED, TIMEOUT))
    previous, current = (rate(sum(failed_[i]) + sum(timeouts[i]), sum(started[i])) for i in (0, 1))
    steps = [rate(f + t, s) for s, f, t in zip(started[1], failed_[1], timeouts[1], strict=True)]
    return Figure(
        "Failure rate",
        current,
        previous,
        unit="%",
        sparkline=sparkline(steps),
        link=link,
        link_label="Amplitude",
        note="(Agent Failed + Agent Timeout) / Agent Started",
    )


def _grouped(section: Section, result: Any, window: DayWindow, title: str, what: str, link: str) -> None:
    if isinstance(result, BaseException):
        section.lines.append(f"{what} unavailable: {_as_skill_error(result).message}")
        return
    totals = [
        (row.label, *(number(sum(h)) for h in window.halves(window.row_daily(result, row)))) for row in result.rows
    ]
    before = {label: previous for label, previous, _ in totals}
    rows = sorted(
        ((label, current) for label, _, current in totals if current),
        key=lambda pair: (-pair[1], -before.get(pair[0], 0), pair[0]),
    )
    items = [Item(label, total, before.get(label, 0), placeholder=_placeholder(label)) for label, total in rows[:TOP]]
    note = f"top {GROUP_LIMIT} groups only" if len(result.rows) >= GROUP_LIMIT else ""
    section.listings.append(
        Listing(title, items, note=note, empty="none in the window", link=link, link_label="Amplitude")
    )


def _day(x: str) -> date | None:
    try:
        return date.fromisoformat(x[:10])
    except ValueError:
        return None


def _placeholder(label: str) -> bool:
    return label in PLACEHOLDERS or label.startswith(tuple(f"{p} #" for p in PLACEHOLDERS))


def _releases(section: Section, result: Any) -> None:
    if isinstance(result, BaseException):
        section.lines.append(f"releases unavailable: {_as_skill_error(result).message}")
        return
    annotations, _source = result
    items = [
        Item(a.label or "(no label)", detail=" ".join(part for part in (a.start[:10], a.category or "") if part))
        for a in annotations[:10]
    ]
    section.listings.append(Listing("Releases in the window", items, empty="no releases annotated"))


def _as_skill_error(exc: BaseException) -> SkillError:
    if isinstance(exc, SkillError):
        return exc
    return SkillError("Amplitude", f"the request failed ({type(exc).__name__}: {exc})", "try again later")
