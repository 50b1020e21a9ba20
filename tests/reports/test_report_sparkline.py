"""Sparklines and the number formatting every figure goes through."""

from __future__ import annotations

import pytest

from reports.model import Figure, change_pct, direction
from reports.render import num, plain_value, trend
from text.sparkline import BARS, sparkline


def test_a_ramp_uses_every_bar_in_order() -> None:
    assert sparkline(list(range(8))) == BARS == "▁▂▃▄▅▆▇█"


def test_scaled_from_zero_so_a_flat_busy_series_is_not_a_spike() -> None:
    assert sparkline([100, 101, 100]) == "███"
    assert sparkline([0, 0, 0]) == "▁▁▁"
    assert sparkline([5, 5, 5]) == "███"


def test_gaps_and_nan_are_blank_and_length_is_kept() -> None:
    line = sparkline([1, None, 4, float("nan"), 2])
    assert len(line) == 5 and line[1] == " " and line[3] == " "
    assert line[2] == "█" and line[0] < line[4] < line[2]
    assert sparkline([None, None]) == "  "
    assert sparkline([]) == ""


def test_negative_values_scale_from_the_lowest() -> None:
    assert sparkline([-4, 0, 4]) == "▁▅█"


def test_a_spike_stands_out() -> None:
    line = sparkline([1, 1, 1, 1, 9, 1])
    assert line.count("█") == 1 and line.index("█") == 4
    assert len(set(line.replace("█", ""))) == 1 and line[0] < "▄"


@pytest.mark.parametrize(
    ("value", "previous", "change", "arrow"),
    [(125, 100, 25.0, "up"), (90, 120, -25.0, "down"), (7, 7, 0.0, "flat"), (3, 0, None, "up"), (0, None, None, "")],
)
def test_change_and_direction(value: float, previous: float | None, change: float | None, arrow: str) -> None:
    assert change_pct(value, previous) == change
    assert direction(value, previous) == arrow
    figure = Figure("x", value, previous)
    assert (figure.change_pct, figure.direction) == (change, arrow)


def test_trend_text() -> None:
    assert trend(Figure("x", 125, 100)) == "▲ 25%"
    assert trend(Figure("x", 2, 3)) == "▼ 33.3%"
    assert trend(Figure("x", 3, 0)) == "▲ new"
    assert trend(Figure("x", 3, 3)) == "= 0%"
    assert trend(Figure("x", 3)) == ""


def test_number_formats() -> None:
    assert num(1234567) == "1,234,567"
    assert num(2.0) == "2"
    assert num(3.456) == "3.46"
    assert num(0.004) == "0.004"
    assert num(None) == "n/a"
    assert plain_value(2.5, "%") == "2.5%"
    assert plain_value(0.375, "s") == "375 ms"
    assert plain_value(1.25, "s") == "1.25 s"
    assert plain_value(480, "ms") == "480 ms"
