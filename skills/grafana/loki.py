"""Loki through Grafana's data-source proxy: logs newest first, metric queries as numbers, label discovery."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from skills.base import SkillError
from skills.grafana.explore import explore_url
from skills.grafana.prometheus import summarize
from skills.grafana.results import clip
from skills.grafana.timeutil import TimeLike, TimeRange, from_ns, to_ns
from skills.results import bounded
from storage.times import iso

if TYPE_CHECKING:
    from skills.grafana.api import GrafanaAPI

DEFAULT_LIMIT = 100
MAX_LIMIT = 5000
NO_LOGS = "the Vercel log drain may not be configured, or nothing was logged in this range"
# Labels a default selector prefers, in order: whichever the log drain set.
SELECTOR_LABELS = ("service_name", "source", "app", "job", "project", "host", "service", "namespace", "container")


async def query(
    client: GrafanaAPI,
    expr: str,
    *,
    since: str | None = "1h",
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    limit: int = DEFAULT_LIMIT,
    direction: str = "backward",
    step: str | None = None,
    uid: str | None = None,
) -> dict[str, Any]:
    ds_uid = await client.require_uid("loki", uid)
    if direction not in ("backward", "forward"):
        raise SkillError("Grafana", f"direction must be backward or forward, not {direction!r}")
    limit = max(1, min(int(limit), MAX_LIMIT))
    window = TimeRange.resolve(since, start, end)
    step_s = window.step(step)
    data = await fetch(client, ds_uid, expr, window, limit=limit, direction=direction, step=step_s)
    envelope: dict[str, Any] = {"query": expr, "datasource_uid": ds_uid, "start": iso(window.start, millis=False)}
    envelope["end"] = iso(window.end, millis=False)
    envelope["explore_url"] = explore_url(client.base_url, ds_uid, "loki", expr, window)
    if data.get("resultType") != "streams":
        envelope.update(kind="metric", step_seconds=step_s)
        return summarize(data, envelope, empty_hint=empty_hint(since or window.describe(), metric=True))
    envelope.update(kind="logs", direction=direction, limit=limit)
    return logs_result(data, envelope, limit=limit, direction=direction, since=since or window.describe())


async def fetch(
    client: GrafanaAPI,
    uid: str,
    expr: str,
    window: TimeRange,
    *,
    limit: int,
    direction: str = "backward",
    step: int | None = None,
) -> dict[str, Any]:
    """GET /loki/api/v1/query_range (times in ns); returns the `data` object."""
    params: dict[str, Any] = {
        "query": expr,
        "start": str(to_ns(window.start)),
        "end": str(to_ns(window.end)),
        "limit": str(limit),
        "direction": direction,
    }
    if step:
        params["step"] = str(step)
    body = await client.proxy(uid, "loki/api/v1/query_range", params, upstream="Loki")
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise SkillError("Grafana", "Loki answered without a data object", "Check the Loki data source in Grafana")
    return data


def entries(data: dict[str, Any]) -> list[tuple[int, dict[str, str], str]]:
    """(ns, stream labels, line) for every line of a streams result."""
    out: list[tuple[int, dict[str, str], str]] = []
    for stream in data.get("result") or []:
        if not isinstance(stream, dict):
            continue
        labels = stream.get("stream") or {}
        for pair in stream.get("values") or []:
            if isinstance(pair, list) and len(pair) >= 2:
                try:
                    out.append((int(pair[0]), labels, str(pair[1])))
                except (TypeError, ValueError):
                    continue
    return out


def logs_result(
    data: dict[str, Any], envelope: dict[str, Any], *, limit: int, direction: str, since: str
) -> dict[str, Any]:
    lines = entries(data)
    lines.sort(key=lambda e: e[0], reverse=direction == "backward")
    lines = lines[:limit]
    common = _common_labels([labels for _, labels, _ in lines])
    rows = []
    for ns, labels, line in lines:
        row: dict[str, Any] = {"time": iso(from_ns(ns))}
        extra = {k: v for k, v in labels.items() if k not in common}
        if extra:
            row["labels"] = extra
        row["line"] = clip(line)
        rows.append(row)
    out = dict(envelope, lines_returned=len(rows), common_labels=common)
    if not rows:
        return dict(out, lines=[], truncated=False, empty=True, hint=empty_hint(since))
    out["truncated"] = len(rows) >= limit
    hint = 'more lines than shown: narrow with a line filter (|= "text"), more label matchers or a shorter range'
    result = bounded(out, "lines", rows, hint=hint)
    if out["truncated"] and "hint" not in result:
        result["hint"] = f"the limit of {limit} lines was reached; {hint}"
    return result


def empty_hint(since: str, *, metric: bool = False) -> str:
    what = "no data points" if metric else "no log lines matched"
    return (
        f"{what} in the last {since}: check the selector's labels with list_loki_labels and "
        f"list_loki_label_values; {NO_LOGS}"
    )


def _common_labels(label_sets: list[dict[str, str]]) -> dict[str, str]:
    if not label_sets:
        return {}
    common = dict(label_sets[0])
    for labels in label_sets[1:]:
        common = {k: v for k, v in common.items() if labels.get(k) == v}
    return common


async def labels(client: GrafanaAPI, since: str = "1h", *, uid: str | None = None) -> dict[str, Any]:
    ds_uid = await client.require_uid("loki", uid)
    names = await client.discovery.label_names("loki", since=since, uid=ds_uid)
    envelope: dict[str, Any] = {"datasource_uid": ds_uid, "since": since, "total": len(names)}
    if not names:
        hint = f"no log streams in the last {since}: {NO_LOGS}"
        return dict(envelope, labels=[], truncated=False, empty=True, hint=hint)
    return bounded(envelope, "labels", names, hint="too many labels to show")


async def label_values(
    client: GrafanaAPI, label: str, since: str = "1h", selector: str | None = None, *, uid: str | None = None
) -> dict[str, Any]:
    ds_uid = await client.require_uid("loki", uid)
    if selector:
        params = _window_params(TimeRange.resolve(since)) | {"query": selector}
        body = await client.proxy(ds_uid, f"loki/api/v1/label/{label}/values", params, upstream="Loki")
        values = sorted(_strings(body))
    else:
        values = await client.discovery.label_values("loki", label, since=since, uid=ds_uid)
    envelope: dict[str, Any] = {"datasource_uid": ds_uid, "label": label, "since": since, "total": len(values)}
    if not values:
        hint = f"label {label!r} has no values in the last {since}; list_loki_labels shows the labels that exist"
        return dict(envelope, values=[], truncated=False, empty=True, hint=hint)
    hint = "too many values: pass a selector to limit them to some streams"
    return bounded(envelope, "values", values, hint=hint)


async def default_selector(client: GrafanaAPI, uid: str, since: str = "1h") -> str | None:
    """A stream selector that matches every stream of the most telling label; None when Loki has no streams."""
    return selector_from(await client.discovery.label_names("loki", since=since, uid=uid))


def selector_from(names: list[str]) -> str | None:
    """The selector of every stream of the most telling of these label names; None when there are none."""
    if not names:
        return None
    label = next((n for n in SELECTOR_LABELS if n in names), names[0])
    return f'{{{label}=~".+"}}'


def _window_params(window: TimeRange) -> dict[str, Any]:
    return {"start": str(to_ns(window.start)), "end": str(to_ns(window.end))}


def _strings(body: Any) -> list[str]:
    data = body.get("data") if isinstance(body, dict) else None
    return [str(v) for v in data] if isinstance(data, list) else []


def split_selector(expr: str) -> tuple[str, str] | None:
    """(stream selector, pipeline) of a log query, or None when `expr` does not start with a selector."""
    text = expr.strip()
    if not text.startswith("{"):
        return None
    quote: str | None = None
    escaped = False
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\" and quote == '"':
                escaped = True
            elif ch == quote:
                quote = None
        elif ch in '"`':
            quote = ch
        elif ch == "}":
            return text[: i + 1], text[i + 1 :].strip()
    return None
