"""Time phrases -> windows, with a fixed "now": Monday 30 Nov 2026, 10:30 in Los Angeles (18:30 UTC)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from agent.rules.timeparse import parse_time

LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 11, 30, 10, 30, tzinfo=LA)

# question -> (tool range arguments, label)
WINDOWS = [
    ("errors in the last 6 hours", {"since": "6h"}, "the last 6h"),
    ("past 30 minutes", {"since": "30m"}, "the last 30m"),
    ("over the last 2 days", {"since": "48h"}, "the last 2d"),
    ("the last hour", {"since": "1h"}, "the last hour"),
    ("this week", {"since": "168h"}, "the last 7 days"),
    ("today", {"since": "11h"}, "since 00:00 PST"),
    ("since this morning", {"since": "5h"}, "since 06:00 PST"),
    ("yesterday", {"start": "2026-11-29T08:00:00Z", "end": "2026-11-30T08:00:00Z"}, "yesterday (00:00–24:00 PST)"),
    ("since yesterday", {"since": "35h"}, "since yesterday 00:00 PST"),
    ("yesterday morning", {"start": "2026-11-29T14:00:00Z", "end": "2026-11-29T20:00:00Z"}, None),
    ("since last Thursday", {"since": "107h"}, "since Thu 26 Nov 00:00 PST"),
    ("since thursday", {"since": "107h"}, "since Thu 26 Nov 00:00 PST"),
    ("what broke last thursday", {"start": "2026-11-26T08:00:00Z", "end": "2026-11-27T08:00:00Z"}, None),
    ("on monday", {"since": "11h"}, "since 00:00 PST"),  # today is Monday
    ("since June 12", {"since": "4115h"}, "since 12 Jun 00:00 PST"),
    ("since 12th june", {"since": "4115h"}, "since 12 Jun 00:00 PST"),
    ("since 2026-11-20", {"since": "251h"}, "since 20 Nov 2026 00:00 PST"),
    ("on 12 dec", {"start": "2025-12-12T08:00:00Z", "end": "2025-12-13T08:00:00Z"}, None),  # a past December
    (
        "what happened on 2 August around 13:45 UTC",
        {"start": "2026-08-02T13:15:00Z", "end": "2026-08-02T14:15:00Z"},
        "2 Aug 13:15–14:15 UTC",
    ),
    ("around 9:40", {"start": "2026-11-30T17:10:00Z", "end": "2026-11-30T18:10:00Z"}, "today 09:10–10:10 PST"),
    ("at 3pm", {"start": "2026-11-29T22:30:00Z", "end": "2026-11-29T23:30:00Z"}, "yesterday 14:30–15:30 PST"),
    ("around 14:00 cet", {"start": "2026-11-30T12:30:00Z", "end": "2026-11-30T13:30:00Z"}, None),
    ("at 14:00 utc yesterday", {"start": "2026-11-29T13:30:00Z", "end": "2026-11-29T14:30:00Z"}, None),
    (
        "between 9 and 10 this morning",
        {"start": "2026-11-30T17:00:00Z", "end": "2026-11-30T18:00:00Z"},
        "today 09:00–10:00 PST",
    ),
    ("from 2pm to 3:30pm yesterday", {"start": "2026-11-29T22:00:00Z", "end": "2026-11-29T23:30:00Z"}, None),
    ("between 11 and 1", {"start": "2026-11-29T19:00:00Z", "end": "2026-11-29T21:00:00Z"}, None),
    ("since 9am", {"since": "90m"}, "since 09:00 PST"),
    ("since 9:30 pt", {"since": "1h"}, "since 09:30 PST"),
    ("since 16:00 Europe/Paris", {"since": "4h"}, "since 16:00 CET"),
    ("what broke 2 hours ago", {"start": "2026-11-30T16:00:00Z", "end": "2026-11-30T17:00:00Z"}, None),
    ("errors an hour ago", {"start": "2026-11-30T17:00:00Z", "end": "2026-11-30T18:00:00Z"}, None),
    ("since 3 hours ago", {"since": "3h"}, "since 07:30 PST"),
    ("3 days ago", {"start": "2026-11-27T08:00:00Z", "end": "2026-11-28T08:00:00Z"}, "Fri 27 Nov (00:00–24:00 PST)"),
    ("were there problems overnight?", {"start": "2026-11-30T02:00:00Z", "end": "2026-11-30T14:00:00Z"}, None),
    ("last night", {"start": "2026-11-30T02:00:00Z", "end": "2026-11-30T14:00:00Z"}, None),
    ("over the weekend", {"start": "2026-11-28T08:00:00Z", "end": "2026-11-30T08:00:00Z"}, None),
]


@pytest.mark.parametrize(("question", "args", "label"), WINDOWS)
def test_time_phrases_become_windows(question: str, args: dict[str, str], label: str | None) -> None:
    reading = parse_time(question, NOW)
    assert reading.unreadable is None
    assert reading.window is not None
    assert reading.window.range_args() == args
    if label:
        assert reading.window.label == label


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("errors since the outage", "since the outage"),
        ("logs on 31 february", "on 31 february"),
        ("what happened around 25:00", "around 25:00"),
        ("errors since the big deploy?", "since the big deploy"),
    ],
)
def test_an_unreadable_time_is_named(question: str, phrase: str) -> None:
    reading = parse_time(question, NOW)
    assert reading.window is None
    assert reading.unreadable == phrase


@pytest.mark.parametrize(
    "question",
    [
        "errors on 503",
        "503 errors in the api-server service",
        "what http status codes do we have for /orders",
        "the checkout page is slow",
        "p95 of GET /api/orders",
        "show the last 500 log lines",
        "tell me a joke",
    ],
)
def test_no_time_no_window(question: str) -> None:
    assert parse_time(question, NOW) == parse_time(question, NOW).__class__()


def test_a_window_knows_the_one_before_it() -> None:
    window = parse_time("between 9 and 10 this morning", NOW).window
    assert window is not None
    assert window.previous_args() == {"start": "2026-11-30T16:00:00Z", "end": "2026-11-30T17:00:00Z"}
    last6 = parse_time("last 6 hours", NOW).window
    assert last6 is not None
    assert last6.previous_args() == {"start": "2026-11-30T06:30:00Z", "end": "2026-11-30T12:30:00Z"}


def test_amplitude_days_cover_the_window() -> None:
    assert parse_time("today", NOW).window.days == 1  # type: ignore[union-attr]
    assert parse_time("since last thursday", NOW).window.days == 5  # type: ignore[union-attr]
    assert parse_time("this week", NOW).window.interval == "day"  # type: ignore[union-attr]
