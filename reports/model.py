"""The report as plain data: figures with their trend and source link, listings, sections, the report itself.

Every number here is computed in code by reports/sections; rendering (reports/render.py) only formats them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Status = Literal["ok", "no_data", "failed", "pending"]
OK: Status = "ok"
NO_DATA: Status = "no_data"
FAILED: Status = "failed"
PENDING: Status = "pending"  # still being gathered: a report posted early and updated in place when it is done


def change_pct(value: float | None, previous: float | None) -> float | None:
    """Percent change from previous to value, one decimal; None when either is missing, previous is 0, or the
    change is too large to be a number."""
    if value is None or previous is None or previous == 0:
        return None
    return finite((value - previous) / abs(previous) * 100, 1)


def finite(value: float, digits: int) -> float | None:
    """`value` rounded, or None when it is NaN or infinite (never shown as a number)."""
    return round(value, digits) if math.isfinite(value) else None


def direction(value: float | None, previous: float | None) -> str:
    """'up', 'down' or 'flat' against the previous window; '' when there is nothing to compare."""
    if value is None or previous is None:
        return ""
    if value > previous:
        return "up"
    if value < previous:
        return "down"
    return "flat"


@dataclass
class Figure:
    """One number: its value, the previous window's value, the trend, a sparkline, and where it comes from.

    unit: "" (a count), "%" (value is already a percentage) or "s" (seconds).
    """

    label: str
    value: float | int | None
    previous: float | int | None = None
    unit: str = ""
    sparkline: str = ""
    link: str | None = None
    link_label: str = ""
    note: str = ""
    change_pct: float | None = None
    direction: str = ""
    series: list[float | None] = field(default_factory=list)  # the window's values per step (for its jump)
    step_s: int = 0  # the length of one step of `series`; its last step ends at the window's end

    def __post_init__(self) -> None:
        if self.change_pct is None:
            self.change_pct = change_pct(self.value, self.previous)
        if not self.direction:
            self.direction = direction(self.value, self.previous)


@dataclass
class Item:
    """A row of a listing: an error pattern, an error_type, an endpoint, an alert, a release."""

    label: str
    value: float | int | None = None
    previous: float | int | None = None
    detail: str = ""
    link: str | None = None
    link_label: str = ""
    code: bool = False  # show the label as code (log patterns)
    placeholder: bool = False  # the label stands for no value ("(none)", a series sent without a label)


@dataclass
class Listing:
    title: str
    items: list[Item] = field(default_factory=list)
    note: str = ""
    empty: str = ""  # what to say when there are no items ("none firing")
    link: str | None = None
    link_label: str = ""


@dataclass
class Section:
    """A report section. A section that is not ok carries the reason and the next step, and nothing else."""

    key: str
    title: str
    status: Status = OK
    window: str = ""
    figures: list[Figure] = field(default_factory=list)
    listings: list[Listing] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    reason: str = ""
    next_step: str = ""
    link: str | None = None
    link_label: str = ""

    @property
    def ok(self) -> bool:
        return self.status == OK


def no_data(key: str, title: str, reason: str, next_step: str, *, window: str = "") -> Section:
    return Section(key, title, NO_DATA, window=window, reason=reason, next_step=next_step)


def failed(key: str, title: str, reason: str, next_step: str, *, window: str = "") -> Section:
    return Section(key, title, FAILED, window=window, reason=reason, next_step=next_step)


def pending(key: str, title: str, waited_s: float) -> Section:
    """A section still running when an on-demand report is first posted; the message is updated when it ends."""
    return Section(
        key,
        title,
        PENDING,
        reason=f"{title} has not answered in the first {waited_s:g} s",
        next_step="nothing: this message is updated when it answers",
    )


@dataclass
class Report:
    title: str
    generated_at: datetime  # aware, in the report's time zone
    timezone: str
    sections: list[Section] = field(default_factory=list)
    summary: str = ""
    summary_source: str = "template"  # "model" or "template"
    job: str | None = None
    scheduled_for: datetime | None = None
    elapsed_s: float = 0.0

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)
