"""Parsing segmentation answers: label variants, unknown keys, nulls, splitting into windows."""

from __future__ import annotations

import json
from datetime import date

import pytest

from skills.amplitude.segmentation import Series, SeriesRow, build_e, change_pct, label_text, parse_series
from skills.base import SkillError


def parse(data: dict, grouped: bool = True) -> Series:
    return parse_series({"data": data}, event_type="E", metric="totals", interval=1, grouped=grouped)


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ([0, "TimeoutError"], "TimeoutError"),
        ([1, "a", "b"], "a; b"),
        ("ValueError", "ValueError"),
        (500, "500"),
        (2.0, "2"),
        ([0, 502], "502"),
        ({"value": "x"}, "x"),
        (None, "(none)"),
        ("", "(none)"),
        ([0, None], "(none)"),
    ],
)
def test_label_variants(raw: object, text: str) -> None:
    assert label_text(raw, grouped=True) == text


def test_labels_without_group_by_are_all() -> None:
    assert label_text(0, grouped=False) == "all"
    assert label_text([0, "whatever"], grouped=False) == "all"


def test_unknown_keys_nulls_and_collapsed() -> None:
    series = parse(
        {
            "series": [[1, None, 3], [2, "4", 0]],
            "seriesLabels": [[0, "a"], "b"],
            "seriesCollapsed": [[{"setId": "", "value": 4}], [{"setId": "", "value": 6}]],
            "seriesMeta": [{"segmentIndex": 0}],
            "somethingNew": True,
            "xValues": ["2026-02-15", "2026-02-16", "2026-02-17"],
        }
    )
    assert [(r.label, r.values, r.total, r.collapsed) for r in series.rows] == [
        ("a", [1, 0, 3], 4, 4),
        ("b", [2, 4, 0], 6, 6),
    ]


def test_missing_labels_and_short_series_are_padded() -> None:
    series = parse({"series": [[1], [2, 2]], "xValues": ["d1", "d2"]})
    # a series Amplitude sent without its label is never named by its position ("0" reads as a group value)
    assert [(r.label, r.values) for r in series.rows] == [("(unlabelled)", [1, 0]), ("(unlabelled) #2", [2, 2])]


def test_duplicate_labels_are_told_apart() -> None:
    series = parse({"series": [[1], [2]], "seriesLabels": [0, 0], "xValues": ["d"]}, grouped=False)
    assert [r.label for r in series.rows] == ["all", "all #2"]


def test_answer_without_data_is_a_skill_error() -> None:
    with pytest.raises(SkillError):
        parse_series({"error": "x"}, event_type="E", metric="totals", interval=1, grouped=False)


def test_split_by_date_and_without_x_values() -> None:
    series = Series(
        "E", "totals", 1, ["2026-02-14", "2026-02-15", "2026-02-16", "2026-02-17"], [SeriesRow("all", [1, 2, 3, 4])]
    )
    previous, current = series.split(date(2026, 2, 16))
    assert (previous.rows[0].values, current.rows[0].values) == ([1, 2], [3, 4])
    hourly = Series("E", "totals", -3600000, ["2026-02-16T23:00:00", "2026-02-17T00:00:00"], [SeriesRow("x", [5, 6])])
    assert [s.total for s in hourly.split(date(2026, 2, 17))] == [5, 6]
    bare = Series("E", "totals", 1, [], [SeriesRow("all", [1, 1, 5, 5])])
    assert [s.total for s in bare.split(date(2026, 2, 17))] == [2, 10]


def test_change_pct() -> None:
    assert change_pct(30, 20) == 50.0
    assert change_pct(10, 0) is None
    assert change_pct(0, 4) == -100.0


def test_build_e_refuses_three_group_bys() -> None:
    from skills.amplitude.segmentation import GroupBy

    assert json.loads(build_e("E")) == {"event_type": "E"}
    with pytest.raises(SkillError):
        build_e("E", (), [GroupBy("event", p) for p in "abc"])
