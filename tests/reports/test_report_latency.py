"""p95 from raw histogram counters: the quantile, counter resets, the two windows, and picking the metric."""

from __future__ import annotations

import math

import pytest

from reports.sections.latency import merge, p95, pick_metric, quantile, step_histograms, unit_of

INF = math.inf


def test_quantile_interpolates_inside_the_bucket_that_holds_the_rank() -> None:
    hist = {0.1: 90.0, 0.25: 90.0, 0.5: 100.0, INF: 100.0}
    # rank 95 falls in (0.25, 0.5], which holds observations 91..100: 0.25 + 0.25 * 5/10
    assert quantile(0.95, hist) == pytest.approx(0.375)
    assert quantile(0.5, hist) == pytest.approx(0.1 * 50 / 90)


def test_quantile_edge_cases() -> None:
    assert quantile(0.95, {0.1: 0.0, INF: 0.0}) is None  # no observations
    assert quantile(0.95, {0.1: 5.0, 0.5: 10.0}) is None  # no +Inf bucket
    assert quantile(0.99, {0.1: 1.0, 0.5: 1.0, INF: 100.0}) == 0.5  # rank in +Inf: the highest finite bound
    # a count that falls (0.5 below 0.25) is raised to the one before it, as Prometheus does
    assert quantile(0.95, {0.5: 10.0, 0.25: 12.0, INF: 12.0}) == pytest.approx(0.25 * 11.4 / 12)


def series(le: str, values: list[float], start: float = 0.0, step: float = 60.0) -> dict:
    return {"metric": {"le": le}, "values": [[start + i * step, str(v)] for i, v in enumerate(values)]}


def test_increases_per_step_survive_a_counter_reset() -> None:
    result = [series("0.1", [10, 20, 5, 15]), series("+Inf", [10, 25, 6, 20])]
    steps = step_histograms(result, 0.0, 60.0, 4)
    assert steps == [{0.1: 10.0, INF: 15.0}, {0.1: 5.0, INF: 6.0}, {0.1: 10.0, INF: 14.0}]
    assert merge(steps) == {0.1: 25.0, INF: 35.0}


def test_p95_splits_the_previous_and_current_windows() -> None:
    # 2 steps per window: previous sees only fast requests, current sees half of them slow
    fast = series("0.1", [0, 10, 20, 25, 30])
    slow = series("1", [0, 10, 20, 30, 40])
    inf = series("+Inf", [0, 10, 20, 30, 40])
    latency = p95([fast, slow, inf], "http_request_duration_seconds_bucket", 0.0, 60.0, 2)
    assert latency.previous == pytest.approx(0.095)
    assert latency.current == pytest.approx(0.1 + 0.9 * (19 - 10) / 10)
    assert latency.observations == 20 and len(latency.per_step) == 2 and latency.unit == "s"


def test_pick_metric_prefers_http_request_durations_with_a_known_unit() -> None:
    names = [
        "go_gc_duration_seconds_bucket",
        "queue_size_bucket",
        "http_server_request_duration_seconds_bucket",
        "rpc_latency_ms_bucket",
    ]
    assert pick_metric(names) == "http_server_request_duration_seconds_bucket"
    assert pick_metric(["rpc_latency_ms_bucket", "queue_size_bucket"]) == "rpc_latency_ms_bucket"
    assert pick_metric(["queue_size_bucket", "up"]) is None
    assert unit_of("rpc_latency_milliseconds_bucket") == "ms" and unit_of("queue_size_bucket") is None
