"""The fake Prometheus' small PromQL subset beyond selectors (grafana_query.py handles selectors and literals):
sum/avg/max/min/count [by (..)] over rate/irate/increase(sel[d]) or a selector,
histogram_quantile(q, sum by (le, ..) (rate(x_bucket[d]))), and any of these compared with a number
(`expr > 1`: a filter, as an alerting rule's expression is; the elements that hold keep their value).
Anything else answers 422, as an execution error."""

from __future__ import annotations

import re
import time
from typing import Any

from .grafana_query import _SECONDS, QueryError, _fmt, _prom_error, _prom_select, _sample_at

# A small PromQL subset beyond selectors: sum/avg/max/min/count [by (..)] over rate/irate/increase(sel[d]) or a
# selector, and histogram_quantile(q, sum by (le, ..) (rate(x_bucket[d]))). Anything else answers 422.
_PROM_AGG = re.compile(
    r"^\s*(sum|avg|max|min|count)\s*(?:by\s*\(([^)]*)\))?\s*\((.*)\)\s*(?:by\s*\(([^)]*)\))?\s*$", re.S
)
_PROM_RANGE_FN = re.compile(r"^\s*(rate|irate|increase)\s*\((.*)\[(\d+)([smhd])\]\s*\)\s*$", re.S)
_PROM_COMPARE = re.compile(r"^(.*\S)\s*(>=|<=|==|!=|>|<)\s*(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*$", re.S)
_COMPARE = {
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}
_PROM_HQ = re.compile(r"^\s*histogram_quantile\s*\(\s*([0-9.]+)\s*,(.*)\)\s*$", re.S)


def _prom_instant(series: list[dict[str, Any]], expr: str, t: float) -> list[tuple[dict[str, str], float]]:
    compare = _PROM_COMPARE.match(expr)
    if compare:
        holds, bound = _COMPARE[compare.group(2)], float(compare.group(3))
        return [(lbl, v) for lbl, v in _prom_instant(series, compare.group(1), t) if holds(v, bound)]
    hq = _PROM_HQ.match(expr)
    if hq:
        return _quantiles(float(hq.group(1)), _prom_instant(series, hq.group(2), t))
    agg = _PROM_AGG.match(expr)
    if agg:
        by = [b.strip() for b in (agg.group(2) or agg.group(4) or "").split(",") if b.strip()]
        groups: dict[tuple, list[float]] = {}
        for labels, value in _prom_instant(series, agg.group(3), t):
            key = tuple(sorted((k, v) for k, v in labels.items() if k in by))
            groups.setdefault(key, []).append(value)
        fn = {"sum": sum, "max": max, "min": min, "count": len, "avg": lambda v: sum(v) / len(v)}[agg.group(1)]
        return [(dict(k), float(fn(v))) for k, v in groups.items()]
    rng = _PROM_RANGE_FN.match(expr)
    if rng:
        window = int(rng.group(3)) * _SECONDS[rng.group(4)]
        out = []
        for item in _prom_select(series, rng.group(2)) or []:
            inside = sorted((ts, float(v)) for ts, v in item["s"]["samples"] if t - window < ts <= t)
            if len(inside) < 2:
                continue
            (t0, v0), (t1, v1) = (inside[-2] if rng.group(1) == "irate" else inside[0]), inside[-1]
            per_s = max(0.0, v1 - v0) / (t1 - t0) if t1 > t0 else 0.0
            labels = {k: v for k, v in item["stream"].items() if k != "__name__"}
            out.append((labels, per_s * window if rng.group(1) == "increase" else per_s))
        return out
    selected = _prom_select(series, expr)
    if selected is None:
        raise QueryError(expr)
    out = []
    for item in selected:
        value = _sample_at(item["s"]["samples"], t)
        if value is not None:
            out.append((item["stream"], float(value)))
    return out


def _quantiles(q: float, buckets: list[tuple[dict[str, str], float]]) -> list[tuple[dict[str, str], float]]:
    groups: dict[tuple, list[tuple[float, float]]] = {}
    for labels, value in buckets:
        key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        groups.setdefault(key, []).append((float(labels.get("le", "+Inf")), value))
    out = []
    for key, pairs in groups.items():
        pairs.sort()
        total = pairs[-1][1]
        if total <= 0:
            continue
        rank, prev_le, prev_count = q * total, 0.0, 0.0
        for le, count in pairs:
            if count >= rank:
                if le == float("inf"):
                    out.append((dict(key), prev_le))
                else:
                    share = (rank - prev_count) / (count - prev_count) if count > prev_count else 0
                    out.append((dict(key), prev_le + (le - prev_le) * share))
                break
            prev_le, prev_count = le, count
    return out


def evaluated(series: list[dict[str, Any]], path: str, params: dict[str, str], expr: str) -> tuple[int, Any]:
    if expr.count("(") != expr.count(")") or expr.count("{") != expr.count("}") or not expr.strip():
        return _prom_error(400, "bad_data", f'invalid parameter "query": 1:{len(expr)}: parse error: unclosed')
    try:
        if path == "/api/v1/query":
            t = float(params.get("time") or time.time())
            vector = [{"metric": lbl, "value": [t, _fmt(v)]} for lbl, v in _prom_instant(series, expr, t)]
            return 200, {"status": "success", "data": {"resultType": "vector", "result": vector}}
        start, end, step = float(params["start"]), float(params["end"]), float(params["step"])
        if (end - start) / step > 11000:
            return _prom_error(400, "bad_data", "exceeded maximum resolution of 11,000 points per timeseries")
        matrix: dict[tuple, dict[str, Any]] = {}
        for i in range(int((end - start) // step) + 1):
            t = start + i * step
            for labels, value in _prom_instant(series, expr, t):
                key = tuple(sorted(labels.items()))
                matrix.setdefault(key, {"metric": labels, "values": []})["values"].append([t, _fmt(value)])
        return 200, {"status": "success", "data": {"resultType": "matrix", "result": list(matrix.values())}}
    except QueryError:
        return _prom_error(422, "execution", "the fake Prometheus evaluates selectors, aggregations and rate()")
