"""The fake Amplitude's query evaluation: buckets per interval, user properties as Amplitude names them (built-ins
bare, custom ones as gp:<name>), and the documented subprop_op filters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

INTERVALS = {-300000, -3600000, 1, 7, 30}
DAY_MS = 86_400_000
# The longest range each interval serves: real-time 2 days, hourly 7, daily 365 (Amplitude's documented caps).
MAX_RANGE_MS = {-300000: 2 * DAY_MS, -3600000: 7 * DAY_MS, 1: 365 * DAY_MS, 7: 365 * DAY_MS, 30: 365 * DAY_MS}
METRICS = {"uniques", "totals", "pct_dau", "average"}


@dataclass
class Bucket:
    """`count` events of one type on one day (and hour), sharing properties and a user."""

    event_type: str
    day: date
    count: int
    hour: int = 0
    user_id: str = "user-1"
    properties: dict[str, Any] = field(default_factory=dict)
    user_properties: dict[str, Any] = field(default_factory=dict)


def buckets(start: date, end: date, interval: int) -> tuple[list[str], Any]:
    """x values for the range, and a function from an event bucket to its index."""
    days = (end - start).days + 1
    if interval == -3600000:
        xs = [f"{start + timedelta(days=d)}T{h:02d}:00:00" for d in range(days) for h in range(24)]
        return xs, lambda b: (b.day - start).days * 24 + b.hour
    if interval == 7:
        xs = [str(start + timedelta(days=d)) for d in range(0, days, 7)]
        return xs, lambda b: (b.day - start).days // 7
    if interval == 30:
        months = sorted({(start + timedelta(days=d)).replace(day=1) for d in range(days)})
        return [str(m) for m in months], lambda b: months.index(b.day.replace(day=1))
    return [str(start + timedelta(days=d)) for d in range(days)], lambda b: (b.day - start).days


def event_matches(bucket: Bucket, event_type: str) -> bool:
    return event_type in ("_all", "_active") or bucket.event_type == event_type


# User properties Amplitude names without a prefix; every other user property is `gp:<name>` in a query.
BUILTIN_USER_PROPERTIES = frozenset(
    {
        "version",
        "country",
        "city",
        "region",
        "DMA",
        "language",
        "platform",
        "os",
        "device",
        "device_type",
        "start_version",
        "paying",
    }
)


def _raw_prop(bucket: Bucket, kind: str, key: str) -> Any:
    if kind != "user":
        return bucket.properties.get(key)
    if key.startswith("gp:"):
        return bucket.user_properties.get(key[3:])
    if key in BUILTIN_USER_PROPERTIES:
        return bucket.user_properties.get(key)
    return None  # a custom user property without gp: is no property at all: it matches nothing


def prop(bucket: Bucket, kind: str, key: str) -> str:
    value = _raw_prop(bucket, kind, key)
    return "(none)" if value is None else str(value)


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _compare(value: Any, wanted: list[str], test: Any) -> bool:
    have, limit = _number(value), _number(wanted[0])
    return have is not None and limit is not None and test(have, limit)


def _as_set(value: Any) -> set[str]:
    if value is None:
        return set()
    return {str(v) for v in value} if isinstance(value, (list, tuple, set)) else {str(value)}


# The documented subprop_op values (https://amplitude.com/docs/apis/analytics/dashboard-rest, segmentation
# filters); any other one is answered with 400.
_OPS = {
    "is": lambda value, wanted: value is not None and str(value) in wanted,
    "is not": lambda value, wanted: value is None or str(value) not in wanted,
    "contains": lambda value, wanted: value is not None and any(w in str(value) for w in wanted),
    "does not contain": lambda value, wanted: value is None or not any(w in str(value) for w in wanted),
    "less": lambda value, wanted: _compare(value, wanted, lambda a, b: a < b),
    "less or equal": lambda value, wanted: _compare(value, wanted, lambda a, b: a <= b),
    "greater": lambda value, wanted: _compare(value, wanted, lambda a, b: a > b),
    "greater or equal": lambda value, wanted: _compare(value, wanted, lambda a, b: a >= b),
    "set is": lambda value, wanted: value is not None and _as_set(value) == set(wanted),
    "set is not": lambda value, wanted: _as_set(value) != set(wanted),
}


def filter_matches(bucket: Bucket, f: dict[str, Any]) -> bool:
    value = _raw_prop(bucket, f.get("subprop_type", "event"), f.get("subprop_key", ""))
    wanted = [str(v) for v in f.get("subprop_value") or []]
    op = f.get("subprop_op", "is")
    if op not in _OPS or not wanted:
        raise ValueError(f"Invalid e parameter: unsupported subprop_op {op!r} or empty subprop_value")
    return bool(_OPS[op](value, wanted))
