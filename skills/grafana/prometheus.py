"""Prometheus through Grafana's data-source proxy: instant and range queries summarised per series, metadata."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from skills.base import SkillError
from skills.grafana.explore import explore_url
from skills.grafana.results import finite, number
from skills.grafana.timeutil import TimeLike, TimeRange, now, to_datetime
from skills.results import bounded
from storage.times import iso

if TYPE_CHECKING:
    from skills.grafana.api import GrafanaAPI

VALUES_UP_TO = 24  # a series with at most this many points also lists its values
NARROW_HINT = (
    "too many series to show: narrow the selector with label matchers, aggregate (sum by (label) (...)) "
    "or keep the largest with topk(10, ...)"
)
EMPTY_HINT = (
    "no series matched: check the metric name with list_metric_names and the labels with list_label_values; "
    "the metric may have no data in this range yet"
)


async def query(
    client: GrafanaAPI,
    expr: str,
    *,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    step: str | float | None = None,
    since: str | None = None,
    uid: str | None = None,
) -> dict[str, Any]:
    ds_uid = await client.require_uid("prometheus", uid)
    instant = start is None and since is None
    if instant:
        at = to_datetime(end) if end is not None else now()
        window = TimeRange.resolve("1h", end=at)
        params: dict[str, Any] = {"query": expr, "time": f"{at.timestamp():.3f}"}
        data = await client.proxy(ds_uid, "api/v1/query", params, upstream="Prometheus")
        envelope: dict[str, Any] = {
            "query": expr,
            "datasource_uid": ds_uid,
            "kind": "instant",
            "time": iso(at, millis=False),
        }
    else:
        window = TimeRange.resolve(since, start, end)
        step_s = window.step(step)
        params = {
            "query": expr,
            "start": f"{window.start.timestamp():.3f}",
            "end": f"{window.end.timestamp():.3f}",
            "step": str(step_s),
        }
        data = await client.proxy(ds_uid, "api/v1/query_range", params, upstream="Prometheus")
        envelope = {
            "query": expr,
            "datasource_uid": ds_uid,
            "kind": "range",
            "start": iso(window.start, millis=False),
            "end": iso(window.end, millis=False),
            "step_seconds": step_s,
        }
    envelope["explore_url"] = explore_url(client.base_url, ds_uid, "prometheus", expr, window, instant=instant)
    return summarize(_data(data, "Prometheus"), envelope, empty_hint=EMPTY_HINT)


def _data(body: Any, upstream: str) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise SkillError("Grafana", f"{upstream} answered without a data object", "Check the data source in Grafana")
    return body["data"]


def summarize(data: dict[str, Any], envelope: dict[str, Any], *, empty_hint: str) -> dict[str, Any]:
    """vector/matrix/scalar/string data -> {result_type, series_total, series: [...]} within the budget."""
    result_type = str(data.get("resultType") or "")
    result = data.get("result")
    out = dict(envelope, result_type=result_type)
    if result_type in ("scalar", "string"):
        pair = result if isinstance(result, list) and len(result) == 2 else [None, None]
        out["value"] = number(pair[1]) if result_type == "scalar" else pair[1]
        if pair[0] is not None:
            out["at"] = iso(float(pair[0]), millis=False)
        out["truncated"] = False
        return out
    items = [r for r in result if isinstance(r, dict)] if isinstance(result, list) else []
    rows = [_matrix_row(r) for r in items] if result_type == "matrix" else [_vector_row(r) for r in items]
    rows = [r for r in rows if r.get("points", 1)]  # a series without a sample in the range says nothing
    rows.sort(key=_sort_key, reverse=True)
    out["series_total"] = len(rows)
    if not rows:
        out.update(series=[], truncated=False, empty=True, hint=empty_hint)
        return out
    fitted = bounded(out, "series", rows, hint=NARROW_HINT)
    if fitted["truncated"] and any("values" in r for r in rows):
        lean = [{k: v for k, v in r.items() if k != "values"} for r in rows]
        fitted = bounded(out, "series", lean, hint=NARROW_HINT)
        fitted["values_omitted"] = True
    return fitted


def _vector_row(item: dict[str, Any]) -> dict[str, Any]:
    pair = item.get("value") or [None, None]
    row: dict[str, Any] = {"labels": item.get("metric") or {}, "value": number(pair[1])}
    if pair[0] is not None:
        row["at"] = iso(float(pair[0]), millis=False)
    return row


def _matrix_row(item: dict[str, Any]) -> dict[str, Any]:
    pairs = [p for p in item.get("values") or [] if isinstance(p, list) and len(p) == 2]
    values = [number(v) for _, v in pairs]
    nums = finite(values)
    row: dict[str, Any] = {"labels": item.get("metric") or {}, "points": len(pairs)}
    row["last"] = values[-1] if values else None
    if pairs:
        row["last_at"] = iso(float(pairs[-1][0]), millis=False)
    if nums:
        row.update(min=number(min(nums)), max=number(max(nums)), avg=number(sum(nums) / len(nums)))
    if 0 < len(pairs) <= VALUES_UP_TO:
        row["values"] = [[iso(float(t), millis=False), v] for (t, _), v in zip(pairs, values, strict=True)]
    return row


def _sort_key(row: dict[str, Any]) -> float:
    value = row.get("value", row.get("last"))
    return float(value) if isinstance(value, (int, float)) else float("-inf")


async def metric_names(client: GrafanaAPI, search: str | None = None, *, uid: str | None = None) -> dict[str, Any]:
    """Metric names, filtered by a case-insensitive substring or regex."""
    ds_uid = await client.require_uid("prometheus", uid)
    names = await client.discovery.metric_names(uid=ds_uid)
    matched = _filter(names, search)
    envelope: dict[str, Any] = {"datasource_uid": ds_uid, "search": search, "total": len(names)}
    envelope["matched"] = len(matched)
    if not matched:
        hint = (
            "no metrics at all: nothing is sending metrics to this data source yet"
            if not names
            else (f"no metric name contains {search!r}; try a shorter search")
        )
        return dict(envelope, names=[], truncated=False, empty=True, hint=hint)
    return bounded(envelope, "names", matched, hint="too many names: pass a more specific search")


async def label_values(
    client: GrafanaAPI, label: str | None = None, match: str | None = None, *, uid: str | None = None
) -> dict[str, Any]:
    """Values of one label (optionally only on series matching `match`), or the label names when label is None."""
    ds_uid = await client.require_uid("prometheus", uid)
    params = {"match[]": match} if match else None
    if label and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", label):
        raise SkillError(
            "Grafana", f"{label!r} is not a Prometheus label name", "Call list_label_values without a label"
        )
    if match:
        path = f"api/v1/label/{label}/values" if label else "api/v1/labels"
        values = sorted(_strings(await client.proxy(ds_uid, path, params, upstream="Prometheus")))
    elif label:
        values = await client.discovery.label_values("prometheus", label, uid=ds_uid)
    else:
        values = await client.discovery.label_names("prometheus", uid=ds_uid)
    envelope: dict[str, Any] = {"datasource_uid": ds_uid, "label": label, "match": match, "total": len(values)}
    if not values:
        what = f"label {label!r} has no values" if label else "no labels"
        hint = f"{what}{' on series matching ' + match if match else ''}; list_label_values without a label lists names"
        return dict(envelope, values=[], truncated=False, empty=True, hint=hint)
    return bounded(envelope, "values", values, hint="too many values: pass match to limit them to some series")


def _strings(body: Any) -> list[str]:
    data = body.get("data") if isinstance(body, dict) else None
    return [str(v) for v in data] if isinstance(data, list) else []


def _filter(names: list[str], search: str | None) -> list[str]:
    if not search:
        return names
    needle = search.lower()
    hits = [n for n in names if needle in n.lower()]
    if hits:
        return hits
    try:
        pattern = re.compile(search, re.IGNORECASE)
    except re.error:
        return []
    return [n for n in names if pattern.search(n)]
