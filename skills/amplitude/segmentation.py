"""Event segmentation: the `e` parameter (filters, group-bys), and the response parsed into labelled series.

Amplitude labels a series with a string, an integer, or a list such as `[0, "value"]` (segment index, then the
group-by values); unknown keys such as `seriesMeta` are ignored.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Literal, get_args

from skills.base import SkillError

INTERVALS: dict[str, int] = {"realtime": -300000, "hour": -3600000, "day": 1, "week": 7, "month": 30}
INTERVAL_NAMES = {v: k for k, v in INTERVALS.items()}
FilterOp = Literal[
    "is",
    "is not",
    "contains",
    "does not contain",
    "less",
    "less or equal",
    "greater",
    "greater or equal",
    "set is",
    "set is not",
]
FILTER_OPS: tuple[str, ...] = get_args(FilterOp)  # the subprop_op values Amplitude documents
# User properties Amplitude names as they are; any other (custom) user property is `gp:<name>` in a query.
BUILTIN_USER_PROPERTIES = (
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
)
_BUILTIN_BY_LOWER = {name.lower(): name for name in BUILTIN_USER_PROPERTIES}
MAX_GROUP_BY = 2
ALL_LABEL = "all"
NONE_LABEL = "(none)"  # Amplitude's own label for events without the grouped property
UNLABELLED = "(unlabelled)"  # a grouped series Amplitude sent without a label (seriesLabels shorter, or [])


def user_property_key(name: str) -> str:
    """A user property as Amplitude's subprop_key names it: 'country' (built in), 'plan' -> 'gp:plan'."""
    if name.startswith("gp:"):
        return name
    return _BUILTIN_BY_LOWER.get(name.lower()) or f"gp:{name}"


def _split_prop(prop: str) -> tuple[str, str]:
    """'user.country' -> ('user', 'country'); 'user.plan' -> ('user', 'gp:plan'); 'agent_id' -> ('event', ...)."""
    for prefix in ("user.", "user:"):
        if prop.startswith(prefix) and len(prop) > len(prefix):
            return "user", user_property_key(prop[len(prefix) :])
    for prefix in ("event.", "event:"):
        if prop.startswith(prefix) and len(prop) > len(prefix):
            return "event", prop[len(prefix) :]
    return "event", prop


@dataclass(frozen=True)
class Filter:
    """A property filter: `prop op values`. A 'user.' prefix on prop means a user property."""

    prop: str
    values: tuple[str, ...]
    op: str = "is"

    def to_api(self) -> dict[str, Any]:
        kind, key = _split_prop(self.prop)
        return {"subprop_type": kind, "subprop_key": key, "subprop_op": self.op, "subprop_value": list(self.values)}


@dataclass(frozen=True)
class GroupBy:
    type: str
    value: str

    @classmethod
    def parse(cls, prop: str) -> GroupBy:
        kind, key = _split_prop(prop)
        return cls(kind, key)

    def to_api(self) -> dict[str, str]:
        return {"type": self.type, "value": self.value}


def build_e(event_type: str, filters: Sequence[Filter] = (), group_by: Sequence[GroupBy] = ()) -> str:
    """The JSON of the `e` parameter (httpx URL-encodes it)."""
    if len(group_by) > MAX_GROUP_BY:
        raise SkillError("Amplitude", f"at most {MAX_GROUP_BY} group-bys per query, not {len(group_by)}")
    e: dict[str, Any] = {"event_type": event_type}
    if filters:
        e["filters"] = [f.to_api() for f in filters]
    if group_by:
        e["group_by"] = [g.to_api() for g in group_by]
    return json.dumps(e, separators=(",", ":"))


def number(value: Any) -> float | int:
    """A series value as a number: null, NaN, infinities and junk are 0, whole floats become ints."""
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            return 0
    if isinstance(value, float) and not math.isfinite(value):
        return 0
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def change_pct(current: float, previous: float) -> float | None:
    """Percent change from previous to current; None when previous is 0."""
    if not previous:
        return None
    return round((current - previous) / previous * 100, 1)


def label_text(raw: Any, grouped: bool = True) -> str:
    """One readable label from Amplitude's label variants; without a group-by every series is 'all'."""
    if not grouped:
        return ALL_LABEL
    if isinstance(raw, dict):
        raw = raw.get("value", raw.get("label", ""))
    if isinstance(raw, (list, tuple)):
        parts = list(raw)
        if len(parts) > 1 and isinstance(parts[0], int) and not isinstance(parts[0], bool):
            parts = parts[1:]  # leading segment index
        text = "; ".join(t for t in (label_text(p) for p in parts) if t != NONE_LABEL)
        return text or NONE_LABEL
    if raw is None:
        return NONE_LABEL
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return str(number(raw))
    return str(raw).strip() or NONE_LABEL


@dataclass
class SeriesRow:
    """One labelled series. `collapsed` is Amplitude's own value for the whole queried range, when given."""

    label: str
    values: list[float | int]
    collapsed: float | int | None = None

    @property
    def total(self) -> float | int:
        return number(sum(self.values))


@dataclass
class Series:
    """A segmentation result: x values (YYYY-MM-DD, or with a time for hourly) and one row per label."""

    event_type: str
    metric: str
    interval: int
    x_values: list[str]
    rows: list[SeriesRow] = field(default_factory=list)

    @property
    def total(self) -> float | int:
        return number(sum(r.total for r in self.rows))

    def split(self, current_start: date) -> tuple[Series, Series]:
        """(previous, current): the buckets before `current_start`, and from it on.

        Query 2N days ending today and split at the start of the last N to get both windows from one call.
        Without x values the series is cut in halves.
        """
        cut = len(self.x_values) // 2
        if self.x_values:
            key = current_start.isoformat()
            cut = next((i for i, x in enumerate(self.x_values) if x[:10] >= key), len(self.x_values))
        else:
            cut = max((len(r.values) for r in self.rows), default=0) // 2
        previous = replace(self, x_values=self.x_values[:cut], rows=[_cut(r, None, cut) for r in self.rows])
        current = replace(self, x_values=self.x_values[cut:], rows=[_cut(r, cut, None) for r in self.rows])
        return previous, current

    def between(self, start: datetime, end: datetime) -> Series:
        """The buckets whose x value (a date, or a date and hour) is in [start, end), naive times."""
        keep = [i for i, x in enumerate(self.x_values) if start <= _x_time(x) < end]
        return replace(
            self,
            x_values=[self.x_values[i] for i in keep],
            rows=[SeriesRow(r.label, [r.values[i] for i in keep if i < len(r.values)], None) for r in self.rows],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_type": self.event_type,
            "metric": self.metric,
            "interval": INTERVAL_NAMES.get(self.interval, self.interval),
            "x_values": self.x_values,
            "series": [{"label": r.label, "values": r.values, "total": r.total} for r in self.rows],
            "total": self.total,
        }


def _x_time(x: str) -> datetime:
    try:
        return datetime.fromisoformat(x[:19]).replace(tzinfo=None)
    except ValueError:
        return datetime.min


def _cut(row: SeriesRow, start: int | None, stop: int | None) -> SeriesRow:
    return SeriesRow(row.label, row.values[start:stop], None)


def parse_series(body: Any, *, event_type: str, metric: str, interval: int, grouped: bool) -> Series:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise SkillError("Amplitude", "the segmentation answer has no 'data' object")
    raw_series, labels, collapsed = (_list(data.get(k)) for k in ("series", "seriesLabels", "seriesCollapsed"))
    x_values = [str(x) for x in _list(data.get("xValues"))]
    rows: list[SeriesRow] = []
    seen: dict[str, int] = {}
    for index, values in enumerate(raw_series):
        # A series without its label is never named by its position ("0" would read as a group-by value).
        label = label_text(labels[index], grouped) if index < len(labels) else UNLABELLED if grouped else ALL_LABEL
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label = f"{label} #{seen[label]}"
        values_list = values if isinstance(values, list) else []
        if x_values:
            values_list = (values_list + [0] * len(x_values))[: len(x_values)]
        rows.append(
            SeriesRow(
                label=label,
                values=[number(v) for v in values_list],
                collapsed=_collapsed(collapsed[index]) if index < len(collapsed) else None,
            )
        )
    return Series(event_type=event_type, metric=metric, interval=interval, x_values=x_values, rows=rows)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def split_events(body: Any, count: int) -> list[dict[str, Any]]:
    """A multi-event answer (`e`, `e2`) as one answer per event, for parse_series.

    Each event's series follow the previous event's; `seriesMeta[].eventIndex` says whose each is, and without it
    the series are shared out in order, an equal number per event.
    """
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise SkillError("Amplitude", "the segmentation answer has no 'data' object")
    series = data.get("series") or []
    meta = data.get("seriesMeta")
    per = max(1, len(series) // count) if series else 1
    owners = []
    for index in range(len(series)):
        entry = meta[index] if isinstance(meta, list) and index < len(meta) else None
        owner = entry.get("eventIndex") if isinstance(entry, dict) else None
        owners.append(owner if isinstance(owner, int) else min(index // per, count - 1))
    out = []
    for event in range(count):
        picked = [i for i, owner in enumerate(owners) if owner == event]
        part = {
            key: [data[key][i] for i in picked if i < len(data[key])]
            for key in ("series", "seriesLabels", "seriesCollapsed")
            if isinstance(data.get(key), list)
        }
        out.append({"data": {**part, "xValues": data.get("xValues") or []}})
    return out


def _collapsed(entry: Any) -> float | int | None:
    if isinstance(entry, list):
        entry = entry[0] if entry else None
    if entry is None:
        return None
    return number(entry)
