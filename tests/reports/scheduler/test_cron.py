"""Cron maths of the report schedule: DST, previous and next fires, crontab weekdays, invalid schedules, the
time before a slot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reports.scheduler import ReportScheduler, crontab_weekdays, next_fire, one_line_error, parse_cron, previous_fire
from storage.jobs import JobStore
from tests.support.scheduling import LA, Recorder, frozen, job_named, utc

# --- cron maths ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "offsets"),
    [
        (utc(2026, 3, 7, 12), [-8, -7, -7]),  # spring forward on Sunday 2026-03-08
        (utc(2026, 10, 31, 12), [-7, -8, -8]),  # fall back on Sunday 2026-11-01
    ],
)
def test_eight_am_stays_eight_am_across_dst(start: datetime, offsets: list[int]) -> None:
    fires, when = [], start
    for _ in range(3):
        when = next_fire("0 8 * * *", LA, when)
        assert when is not None
        fires.append(when)
    assert [(f.hour, f.minute) for f in fires] == [(8, 0)] * 3
    assert [f.utcoffset() for f in fires] == [timedelta(hours=h) for h in offsets]
    assert [f.date() for f in fires] == [start.date() + timedelta(days=i) for i in range(3)]
    assert [f.astimezone(UTC).hour for f in fires] == [8 - h for h in offsets]


async def test_next_fire_times_with_a_frozen_clock_cross_dst(store: JobStore) -> None:
    morning, evening = await job_named(store, "Morning report"), await job_named(store, "Evening report")
    scheduler = ReportScheduler(store, Recorder(), clock=frozen(utc(2026, 3, 7, 17)))  # Sat 09:00 PST
    await scheduler.resync()
    times = scheduler.next_fire_times()
    assert times[morning.id] == datetime(2026, 3, 8, 8, tzinfo=ZoneInfo(LA))
    assert times[morning.id].astimezone(UTC) == utc(2026, 3, 8, 15)  # PDT already
    assert times[evening.id].astimezone(UTC) == utc(2026, 3, 8, 4)  # Sat 20:00 PST

    scheduler = ReportScheduler(store, Recorder(), clock=frozen(utc(2026, 11, 1, 8)))  # Sun 01:00 PDT
    await scheduler.resync()
    assert scheduler.next_fire_times()[morning.id].astimezone(UTC) == utc(2026, 11, 1, 16)  # 08:00 PST


def test_previous_fire_is_the_latest_slot_at_or_before() -> None:
    assert previous_fire("0 8 * * *", LA, utc(2026, 3, 9, 16, 30)) == utc(2026, 3, 9, 15)
    assert previous_fire("0 8 * * *", LA, utc(2026, 3, 9, 15)) == utc(2026, 3, 9, 15)
    assert previous_fire("0 8 * * *", LA, utc(2026, 3, 9, 14, 59)) == utc(2026, 3, 8, 15)
    assert previous_fire("0 8 * * *", LA, utc(2026, 3, 8, 14, 59)) == utc(2026, 3, 7, 16)  # PST the day before
    assert previous_fire("0 20 * * *", LA, utc(2026, 11, 2, 5)) == utc(2026, 11, 2, 4)
    assert previous_fire("* * * * *", "UTC", utc(2026, 3, 9, 15, 0, 30)) == utc(2026, 3, 9, 15)
    assert previous_fire("0 0 29 2 *", "UTC", utc(2026, 3, 9)) == utc(2024, 2, 29)


def test_crontab_weekdays_count_sunday_as_zero() -> None:
    assert crontab_weekdays("0") == crontab_weekdays("7") == "sun"
    assert crontab_weekdays("1-5") == "mon,tue,wed,thu,fri"
    assert crontab_weekdays("*/2") == "sun,tue,thu,sat"
    assert next_fire("0 9 * * 1-5", "UTC", utc(2026, 3, 7)) == utc(2026, 3, 9, 9)  # Sat -> Mon
    assert next_fire("0 9 * * 0", "UTC", utc(2026, 3, 7)) == utc(2026, 3, 8, 9)  # Sunday


def test_invalid_schedules_are_value_errors() -> None:
    with pytest.raises(ValueError, match="5 fields"):
        parse_cron("0 8 * *", LA)
    with pytest.raises(ValueError, match="IANA"):
        parse_cron("0 8 * * *", "Mars/Olympus")
    with pytest.raises(ValueError):
        parse_cron("0 25 * * *", LA)
    with pytest.raises(ValueError):
        parse_cron("0 8 * * funday", LA)


def test_one_line_error() -> None:
    assert one_line_error(RuntimeError("Slack: channel_not_found\nTraceback ...")) == (
        "RuntimeError: Slack: channel_not_found"
    )
    assert one_line_error(TimeoutError()) == "TimeoutError"
    assert len(one_line_error(ValueError("x" * 1000))) == 300


def test_the_time_before_a_slot_is_a_minute_before_it_across_dst() -> None:
    from reports.scheduler import AHEAD
    from reports.slots import Ahead

    morning = parse_cron("0 8 * * 1-5", LA)
    ahead = Ahead(morning, AHEAD)
    # Friday 6 March 2026, 20:00 PST: the next slot is Monday 9 March 08:00 PDT (DST began on the Sunday)
    now = datetime(2026, 3, 6, 20, 0, tzinfo=ZoneInfo(LA))
    first = ahead.get_next_fire_time(None, now)
    assert first == datetime(2026, 3, 9, 7, 59, tzinfo=ZoneInfo(LA))
    assert ahead.get_next_fire_time(first, first) == datetime(2026, 3, 10, 7, 59, tzinfo=ZoneInfo(LA))
    # between the minute before and the slot itself, the next one is the next day's
    assert ahead.get_next_fire_time(None, datetime(2026, 3, 9, 7, 59, 30, tzinfo=ZoneInfo(LA))) == datetime(
        2026, 3, 10, 7, 59, tzinfo=ZoneInfo(LA)
    )
