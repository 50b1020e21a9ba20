"""Cron maths: pure functions of (cron, time zone, instant), so they can be tested with a frozen clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_LOOKBACKS = tuple(timedelta(days=d) for d in (1 / 24, 1, 8, 32, 367, 366 * 8 + 1))


def _weekday(text: str) -> int:
    if text.isdigit() and 0 <= int(text) <= 7:
        return int(text)
    if text in _WEEKDAYS:
        return _WEEKDAYS.index(text)
    raise ValueError(f"{text!r} is not a day of the week (0-7 or sun-sat)")


def crontab_weekdays(field: str) -> str:
    """A crontab day-of-week field (0 or 7 = Sunday) as APScheduler 3 day names (it counts 0 as Monday)."""
    field = field.strip().lower()
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for item in field.split(","):
        span, _, step_text = item.partition("/")
        step = int(step_text) if step_text.isdigit() else 0 if step_text else 1
        if step < 1:
            raise ValueError(f"bad step in day-of-week {item!r}")
        if span == "*":
            low, high = 0, 6
        elif "-" in span:
            first, last = span.split("-", 1)
            low, high = _weekday(first), _weekday(last)
        else:
            low = _weekday(span)
            high = 6 if step_text else low
        if high < low:
            raise ValueError(f"day-of-week range {item!r} runs backwards")
        days.update(day % 7 for day in range(low, high + 1, step))
    return ",".join(_WEEKDAYS[day] for day in sorted(days))


@lru_cache(maxsize=256)
def parse_cron(cron: str, tz: str) -> CronTrigger:
    """A 5-field crontab expression in an IANA time zone as a CronTrigger; ValueError when either is invalid.

    Standard weekday numbers are honoured. As in APScheduler, a restricted day-of-month and day-of-week must
    both match (classic cron matches either).
    """
    fields = cron.split()
    if len(fields) != 5:
        raise ValueError(f"cron {cron!r} needs 5 fields: minute hour day-of-month month day-of-week")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{tz!r} is not an IANA time zone (like America/Los_Angeles)") from exc
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute, hour=hour, day=day, month=month, day_of_week=crontab_weekdays(weekday), timezone=zone
    )


def next_fire(cron: str, tz: str, after: datetime) -> datetime | None:
    """The first slot strictly after `after`, in the job's time zone."""
    return parse_cron(cron, tz).get_next_fire_time(None, after + timedelta(microseconds=1))


def previous_fire(cron: str, tz: str, before: datetime) -> datetime | None:
    """The latest slot at or before `before`, in the job's time zone (None if there is none in 8 years)."""
    trigger = parse_cron(cron, tz)
    for lookback in _LOOKBACKS:
        slot = trigger.get_next_fire_time(None, before - lookback)
        if slot is None or slot > before:
            continue
        while (following := next_fire(cron, tz, slot)) is not None and following <= before:
            slot = following
        return slot
    return None
