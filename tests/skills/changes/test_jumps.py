"""The one jump rule (skills/changes/jumps.py) that reports, rule-based answers and alert investigations share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from skills.changes.jumps import counts_by_step, find_jump, in_window, nearest_before
from storage.changes import GITHUB, VERCEL, Change

T0 = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
STEP = timedelta(minutes=10)


def change(ref: str, minutes: int, source: str = GITHUB) -> Change:
    return Change(
        source, "mochacare/web", ref, "push" if source == GITHUB else "deploy", T0 + timedelta(minutes=minutes)
    )


def test_a_count_must_double_and_add_three() -> None:
    assert find_jump([3, 5, 5], T0, STEP) is None  # +2: noise
    assert find_jump([10, 18, 18], T0, STEP) is None  # less than double
    jump = find_jump([3, 4, 30, 31], T0, STEP)
    assert jump is not None and (jump.before, jump.after) == (4, 30)
    assert (jump.start, jump.end) == (T0 + 2 * STEP, T0 + 3 * STEP) and jump.step_minutes == 10


def test_the_largest_rise_wins_and_unknown_steps_are_skipped() -> None:
    jump = find_jump([0, 6, None, 40, 100], T0, STEP)
    assert jump is not None and (jump.before, jump.after) == (40, 100)


def test_a_latency_jumps_at_one_and_a_half_times() -> None:
    assert find_jump([2.0, 2.9], T0, STEP, "s") is None
    jump = find_jump([2.0, 3.0], T0, STEP, "s")
    assert jump is not None and jump.unit == "s"
    assert find_jump([0.0, 5.0], T0, STEP, "s") is None  # from nothing: not a latency jump


def test_loki_steps_that_counted_nothing_are_zero_inside_the_range() -> None:
    points = {T0: 2.0, T0 + 3 * STEP: 20.0}
    assert counts_by_step(points, STEP, T0 - STEP) == [0.0, 2.0, 0.0, 0.0, 20.0]
    assert counts_by_step(points, STEP, None) == [2.0, 0.0, 0.0, 20.0]
    assert counts_by_step({}, STEP, T0) == []


def test_the_nearest_change_is_the_latest_before_the_end_of_the_step() -> None:
    changes = [change("early", -30), change("same-step", 25, VERCEL), change("after", 45)]
    jump = find_jump([1, 1, 30], T0, STEP)  # rose in [T0+20, T0+30)
    assert jump is not None
    nearest = nearest_before(changes, jump.end)
    assert nearest is not None and nearest.ref == "same-step"
    assert nearest_before(changes, T0 - timedelta(hours=1)) is None


def test_in_window_is_newest_first_and_open_ended() -> None:
    changes = [change("a", 0), change("b", 20), change("c", 40)]
    assert [c.ref for c in in_window(changes, T0 + STEP, None)] == ["c", "b"]
    assert [c.ref for c in in_window(changes, None, T0 + STEP)] == ["a"]


def test_a_tool_row_reads_back_as_the_change() -> None:
    c = Change(GITHUB, "mochacare/web", "a" * 40, "push", T0, title="Fix", author="ana", url="https://x/a")
    back = Change.from_dict(c.to_dict())
    assert back is not None and (back.ref, back.at, back.title, back.url) == ("aaaaaaa", T0, "Fix", "https://x/a")
    assert Change.from_dict({"time": "yesterday"}) is None and Change.from_dict("x") is None
