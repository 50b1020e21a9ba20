"""p95 latency from a Prometheus histogram, computed in code from the raw `_bucket` counters.

One range query of the bucket series over both windows gives the counters at each step; the increase per step
(counter resets handled as Prometheus does) summed by `le` is a histogram per step, and the quantile is
interpolated inside the bucket that holds the rank, as PromQL's histogram_quantile does. The window's number is
therefore what skills/grafana/latency.py's `p95_query(metric, <window>)` gives at the window's end (the report
links that query), and one query yields both windows and the sparkline. The metric is picked there too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from skills.grafana.latency import QUANTILE, pick_metric, unit_of

Histogram = dict[float, float]  # upper bound (le) -> cumulative count

__all__ = ["Histogram", "Latency", "merge", "p95", "pick_metric", "quantile", "step_histograms", "unit_of"]


def _le(labels: dict[str, Any]) -> float | None:
    raw = str(labels.get("le", ""))
    if raw in ("+Inf", "Inf", "inf"):
        return math.inf
    try:
        return float(raw)
    except ValueError:
        return None


def step_histograms(result: list[dict[str, Any]], start: float, step: float, points: int) -> list[Histogram]:
    """For each step k = 1..points-1: le -> increase of the counters from point k-1 to k, summed over series."""
    steps: list[Histogram] = [{} for _ in range(points - 1)]
    for series in result:
        le = _le(series.get("metric") or {})
        if le is None:
            continue
        grid: list[float | None] = [None] * points
        for pair in series.get("values") or []:
            try:
                ts, value = float(pair[0]), float(pair[1])
            except (TypeError, ValueError, IndexError):
                continue
            k = round((ts - start) / step)
            if 0 <= k < points and math.isfinite(value):
                grid[k] = value
        for k in range(1, points):
            before, now = grid[k - 1], grid[k]
            if before is None or now is None:
                continue
            increase = now - before if now >= before else now  # a counter reset starts again from zero
            steps[k - 1][le] = steps[k - 1].get(le, 0.0) + increase
    return steps


def merge(histograms: Sequence[Histogram]) -> Histogram:
    total: Histogram = {}
    for hist in histograms:
        for le, count in hist.items():
            total[le] = total.get(le, 0.0) + count
    return total


def quantile(q: float, hist: Histogram) -> float | None:
    """histogram_quantile(q) over one histogram; None without a +Inf bucket or without observations."""
    if math.inf not in hist or len(hist) < 2:
        return None
    bounds = sorted(hist)
    counts: list[float] = []
    for le in bounds:  # cumulative counts must not fall (float noise, partial scrapes)
        counts.append(max(hist[le], counts[-1] if counts else 0.0))
    total = counts[-1]
    if total <= 0:
        return None
    rank = q * total
    i = next(i for i, c in enumerate(counts) if c >= rank)
    if bounds[i] == math.inf:
        return bounds[-2]
    if i == 0 and bounds[0] <= 0:
        return bounds[0]
    lower = 0.0 if i == 0 else bounds[i - 1]
    below = 0.0 if i == 0 else counts[i - 1]
    inside = counts[i] - below
    return lower + (bounds[i] - lower) * ((rank - below) / inside if inside > 0 else 1.0)


@dataclass
class Latency:
    metric: str
    unit: str
    current: float | None
    previous: float | None
    per_step: list[float | None]  # the current window's steps, for the sparkline
    observations: float  # observations in the current window


def p95(result: list[dict[str, Any]], metric: str, start: float, step: float, buckets: int) -> Latency:
    """p95 of the current window (the last `buckets` steps) and the previous one (the `buckets` before)."""
    steps = step_histograms(result, start, step, 2 * buckets + 1)
    previous, current = steps[:buckets], steps[buckets:]
    merged = merge(current)
    return Latency(
        metric=metric,
        unit=unit_of(metric) or "s",
        current=quantile(QUANTILE, merged),
        previous=quantile(QUANTILE, merge(previous)),
        per_step=[quantile(QUANTILE, h) for h in current],
        observations=merged.get(math.inf, 0.0),
    )
