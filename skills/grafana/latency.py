"""Latency from a Prometheus histogram: which metric to use, and the one PromQL query of its p95.

The agent's latency answer and the report's p95 figure both pick the metric here and both link this query, so
the number a report shows is the one its Explore link draws at the window's end.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

QUANTILE = 0.95

_PREFERRED = (
    re.compile(r"http.*(request|server).*duration.*_bucket$"),
    re.compile(r"(duration|latency).*seconds_bucket$"),
    re.compile(r"(duration|latency).*(milliseconds|_ms)_bucket$"),
)


def pick_metric(names: Sequence[str]) -> str | None:
    """The latency histogram to use: HTTP request durations first, then any duration/latency histogram in s or ms."""
    usable = [n for n in names if n.endswith("_bucket") and unit_of(n)]
    for pattern in _PREFERRED:
        hits = sorted(n for n in usable if pattern.search(n.lower()))
        if hits:
            return hits[0]
    return None


def unit_of(metric: str) -> str | None:
    """'s' or 'ms' from the metric name; None when the unit cannot be told (then it is not used)."""
    name = metric.lower()
    if "milliseconds" in name or "_ms_" in name:
        return "ms"
    if "seconds" in name:
        return "s"
    return None


def p95_query(bucket_metric: str, over: str, matcher: str | None = None) -> str:
    """PromQL: the p95 of the observations in the `over` (e.g. 5m, 12h) before each evaluation time.

    Summing the buckets' increases by `le` before the quantile covers every series of the histogram at once;
    `matcher` (e.g. app="checkout") narrows it to one workload.
    """
    where = f"{{{matcher}}}" if matcher else ""
    return f"histogram_quantile({QUANTILE:g}, sum by (le) (increase({bucket_metric}{where}[{over}])))"
