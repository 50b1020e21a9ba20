"""When a series jumped, and which change came before it: the one rule the report, the rule-based answers and alert
investigations share.

A jump is the largest rise over one step of a series: a count must at least double and add MIN_RISE (3 → 5 is
noise, 3 → 30 is news); a latency (unit s or ms) must reach LATENCY_RISE × the step before. The change it is tied
to is the latest one that landed before the end of the step the series rose in (`nearest_before`), so a deploy in
the same step counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.changes import Change

MIN_RISE = 3.0
LATENCY_RISE = 1.5
LATENCY_UNITS = ("s", "ms")


@dataclass(frozen=True)
class Jump:
    start: datetime  # the step the series rose in starts here…
    end: datetime  # …and ends here
    before: float
    after: float
    unit: str = ""

    @property
    def step_minutes(self) -> int:
        return round((self.end - self.start).total_seconds() / 60)


def rose(before: float, after: float, unit: str = "") -> bool:
    if unit in LATENCY_UNITS:
        return before > 0 and after >= before * LATENCY_RISE
    return after - before >= max(MIN_RISE, before)


def find_jump(values: Sequence[float | None], first: datetime, step: timedelta, unit: str = "") -> Jump | None:
    """The largest rise of one step in `values` (the value of each step from `first` on; None: unknown)."""
    best: Jump | None = None
    for i in range(1, len(values)):
        before, after = values[i - 1], values[i]
        if before is None or after is None or not rose(before, after, unit):
            continue
        if best is None or after - before > best.after - best.before:
            start = first + step * i
            best = Jump(start, start + step, before, after, unit)
    return best


def counts_by_step(points: Mapping[datetime, float], step: timedelta, first: datetime | None) -> list[float | None]:
    """A count series as Loki answers it (a step that counted nothing is left out) as one value per step: a missing
    step inside the range (from `first` on) counted 0; before the first point, when `first` is unknown, nothing is
    known. Index 0 is `first`, or the earliest point."""
    if not points:
        return []
    start = first if first is not None else min(points)
    steps = int((max(points) - start) / step) + 1
    return [points.get(start + step * i, 0.0) for i in range(max(0, steps))]


def nearest_before(changes: Sequence[Change], when: datetime) -> Change | None:
    """The latest change at or before `when`."""
    return max((c for c in changes if c.at <= when), key=lambda c: c.at, default=None)


def in_window(changes: Sequence[Change], start: datetime | None, end: datetime | None) -> list[Change]:
    """The changes inside [start, end] (an open end: unbounded), newest first."""
    inside = [c for c in changes if (start is None or c.at >= start) and (end is None or c.at <= end)]
    return sorted(inside, key=lambda c: c.at, reverse=True)
