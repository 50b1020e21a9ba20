"""Durations ("15m", "1h30m", "2d"), time ranges, and the units each backend wants (s, ms, ns, RFC 3339)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from storage.times import iso

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
# Steps a range query may use, in seconds; a wanted step is rounded up to the next one.
_NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
MAX_POINTS = 100

TimeLike = datetime | float | int | str


def parse_duration(text: str | float | int) -> timedelta:
    """'90s', '15m', '1h30m', '2d', '1w' or a number of seconds -> timedelta; ValueError when malformed."""
    if isinstance(text, (int, float)):
        if text <= 0:
            raise ValueError("a duration must be positive")
        return timedelta(seconds=float(text))
    value = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return parse_duration(float(value))
    pos, total = 0, 0.0
    for match in _DURATION.finditer(value):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(value) or not value or total <= 0:
        raise ValueError(f"{text!r} is not a duration like 30s, 15m, 1h, 2d or 1w")
    return timedelta(seconds=total)


def check_duration(text: str | None) -> str | None:
    """A pydantic validator helper: the text unchanged when it parses."""
    if text is not None:
        parse_duration(text)
    return text


def to_datetime(value: TimeLike) -> datetime:
    """A datetime (naive means UTC), unix seconds, or an RFC 3339 string -> aware UTC datetime."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value), UTC)
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return datetime.fromtimestamp(float(text), UTC)
    try:
        return to_datetime(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise ValueError(f"{value!r} is not a time (RFC 3339 or unix seconds)") from None


def now() -> datetime:
    return datetime.now(UTC)


def to_ns(dt: datetime) -> int:
    return int(dt.timestamp()) * 1_000_000_000 + dt.microsecond * 1000


def from_ns(value: str | int) -> datetime:
    ns = int(value)
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC) + timedelta(microseconds=(ns % 1_000_000_000) // 1000)


def to_ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def nice_step(seconds: float) -> int:
    """The smallest 'round' step of at least `seconds`."""
    for step in _NICE_STEPS:
        if step >= seconds:
            return step
    return int(math.ceil(seconds / 86400) * 86400)


@dataclass(frozen=True)
class TimeRange:
    start: datetime
    end: datetime

    @classmethod
    def resolve(
        cls, since: str | None = None, start: TimeLike | None = None, end: TimeLike | None = None, default: str = "1h"
    ) -> TimeRange:
        """A range from an explicit start, else `since` before the end; the end defaults to now."""
        stop = to_datetime(end) if end is not None else now()
        begin = to_datetime(start) if start is not None else stop - parse_duration(since or default)
        if begin >= stop:
            raise ValueError(f"the range starts ({iso(begin, millis=False)}) after it ends ({iso(stop, millis=False)})")
        return cls(begin, stop)

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def step(self, wanted: str | float | None = None, max_points: int = MAX_POINTS) -> int:
        """A step that gives at most `max_points` points: the wanted step, widened when it would give more."""
        floor = self.seconds / max_points
        asked = parse_duration(wanted).total_seconds() if wanted else 0.0
        if asked and asked >= floor:
            return max(1, math.ceil(asked))
        return nice_step(max(floor, 1.0))

    def describe(self) -> str:
        return f"{iso(self.start, millis=False)} to {iso(self.end, millis=False)}"


def human_age(seconds: float) -> str:
    """'just now', '4 min', '3 h', '2 d'."""
    if seconds < 60:
        return "under a minute"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h".replace(".0 h", " h")
    return f"{seconds / 86400:.1f} d".replace(".0 d", " d")
