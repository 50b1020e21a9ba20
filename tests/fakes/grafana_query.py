"""Query evaluation for the fake Grafana: simplified LogQL for Loki, selectors and literals for Prometheus."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from drain3 import TemplateMiner
from drain3.template_miner_config import TemplateMinerConfig


def now_ns() -> int:
    return time.time_ns()


# ---------------------------------------------------------------------------------------------------------
# Loki (simplified LogQL: stream selectors, line filters, count_over_time / rate, sum by) with exact formats.

Matcher = tuple[str, str, str]
_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|`[^`]*`)\s*(,|(?=\}))')
_RANGE_FN = re.compile(r"^\s*(count_over_time|rate)\s*\((.*)\[(\d+)([smhd])\]\s*\)\s*$", re.S)
_AGG = re.compile(r"^\s*(sum|count|max|min|avg)\s*(?:by\s*\(([^)]*)\))?\s*\((.*)\)\s*(?:by\s*\(([^)]*)\))?\s*$", re.S)
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class QueryError(ValueError):
    pass


def _string(token: str) -> str:
    return token[1:-1] if token.startswith("`") else json.loads(token)


def parse_selector(text: str) -> tuple[list[Matcher], str]:
    """'{a="b", c=~"x.*"} rest' -> ([(a, =, b), ...], 'rest')."""
    text = text.strip()
    if not text.startswith("{"):
        raise QueryError("parse error at line 1, col 1: syntax error: unexpected IDENTIFIER, expecting {")
    pos, matchers = 1, []
    while True:
        if text[pos:].lstrip().startswith("}"):
            pos = text.index("}", pos) + 1
            break
        m = _MATCHER.match(text, pos)
        if not m:
            raise QueryError(f"parse error at line 1, col {pos + 1}: syntax error: unexpected character")
        matchers.append((m.group(1), m.group(2), _string(m.group(3))))
        pos = m.end()
        if m.group(4) != ",":
            if not text[pos:].lstrip().startswith("}"):
                raise QueryError(f"parse error at line 1, col {pos + 1}: syntax error: unexpected character")
    if not any(not _matches_empty(op, v) for _, op, v in matchers):
        raise QueryError(
            "parse error : queries require at least one regexp or equality matcher that does not have an "
            'empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will'
        )
    return matchers, text[pos:]


def _matches_empty(op: str, value: str) -> bool:
    if op == "=":
        return value == ""
    if op == "=~":
        return re.fullmatch(value, "") is not None
    return True


def parse_pipeline(text: str) -> list[tuple[str, str]]:
    """Line filters (|=, !=, |~, !~); other stages (| json, | label filters) are accepted and ignored."""
    filters, pos = [], 0
    text = text.strip()
    while pos < len(text):
        rest = text[pos:]
        op = next((o for o in ("|=", "!=", "|~", "!~") if rest.startswith(o)), None)
        if op:
            m = re.match(r'\s*("(?:[^"\\]|\\.)*"|`[^`]*`)', text[pos + 2 :])
            if not m:
                raise QueryError(
                    f"parse error at line 1, col {pos + 3}: syntax error: unexpected end, expecting STRING"
                )
            filters.append((op, _string(m.group(1))))
            pos += 2 + m.end()
        elif rest.startswith("|"):
            pos += 1
            quote = None
            while pos < len(text) and (quote or text[pos] != "|"):
                ch = text[pos]
                quote = None if ch == quote else (ch if ch in '"`' and not quote else quote)
                pos += 1
        elif rest[0].isspace():
            pos += 1
        else:
            raise QueryError(f"parse error at line 1, col {pos + 1}: syntax error: unexpected IDENTIFIER")
    return filters


def _select(streams: list[dict[str, Any]], matchers: list[Matcher]) -> list[dict[str, Any]]:
    def ok(labels: dict[str, str]) -> bool:
        for name, op, value in matchers:
            have = labels.get(name, "")
            hit = have == value if op in ("=", "!=") else re.fullmatch(value, have) is not None
            if hit != (op in ("=", "=~")):
                return False
        return True

    return [s for s in streams if ok(s["stream"])]


def _keep(line: str, filters: list[tuple[str, str]]) -> bool:
    for op, value in filters:
        hit = value in line if op in ("|=", "!=") else re.search(value, line) is not None
        if hit != (op in ("|=", "|~")):
            return False
    return True


def _log_entries(streams: list[dict[str, Any]], query: str, start: int, end: int) -> list[tuple[dict, int, str]]:
    matchers, rest = parse_selector(query)
    filters = parse_pipeline(rest)
    parse_json = re.search(r"\|\s*json\s*(?:\||$)", rest) is not None
    drop_errors = re.search(r'\|\s*__error__\s*=\s*""', rest) is not None
    out = []
    for stream in _select(streams, matchers):
        for ts, line in stream["values"]:
            if start <= int(ts) < end and _keep(line, filters):
                labels = stream["stream"]
                if parse_json:
                    fields = _json_labels(line)
                    if fields is None and drop_errors:
                        continue
                    labels = {**labels, **(fields if fields is not None else {"__error__": "JSONParserErr"})}
                out.append((labels, int(ts), line))
    return out


def _json_labels(line: str) -> dict[str, str] | None:
    """The `| json` parser: every field as a label, nested keys joined with _ (None: not a JSON object)."""
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    out: dict[str, str] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}_{k}" if prefix else str(k), v)
        elif not isinstance(value, list):
            key = re.sub(r"[^A-Za-z0-9_]", "_", prefix)
            out[key] = json.dumps(value) if isinstance(value, bool) else str(value)

    walk("", obj)
    return out


def _metric(streams: list[dict[str, Any]], query: str, times: list[int]) -> list[dict[str, Any]] | None:
    """Evaluate [sum by (..)] (count_over_time|rate)(<log query> [d]) at each time (ns); None: not a metric query."""
    agg = _AGG.match(query)
    by: list[str] | None = None
    inner = query
    if agg:
        by = [b.strip() for b in (agg.group(2) or agg.group(4) or "").split(",") if b.strip()]
        inner = agg.group(3)
    fn = _RANGE_FN.match(inner)
    if not fn:
        if agg or not query.strip().startswith("{"):
            raise QueryError("parse error at line 1, col 1: syntax error: unexpected IDENTIFIER")
        return None
    window = int(fn.group(3)) * _SECONDS[fn.group(4)] * 1_000_000_000
    entries = _log_entries(streams, fn.group(2), min(times) - window, max(times) + 1)
    series: dict[tuple, dict[str, Any]] = {}
    for t in times:
        groups: dict[tuple, float] = {}
        for labels, ts, _ in entries:
            if t - window < ts <= t:
                key_labels = labels if by is None else {k: v for k, v in labels.items() if k in by}
                key = tuple(sorted(key_labels.items()))
                groups[key] = groups.get(key, 0) + 1
        for key, count in groups.items():
            value = count / (window / 1e9) if fn.group(1) == "rate" else count
            item = series.setdefault(key, {"metric": dict(key), "values": []})
            item["values"].append([t / 1e9, _fmt(value)])
    return list(series.values())


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _ns(value: str | None, default: int) -> int:
    if not value:
        return default
    if re.fullmatch(r"\d+", value):
        number = int(value)
        return number if number > 10**14 else number * 1_000_000_000
    return int(float(value) * 1e9)


PATTERNS_RETAIN_FOR_S = 3 * 3600  # pattern-ingester.retain-for: 3h by default (Loki's configuration reference)


def _patterns(
    streams: list[dict[str, Any]], params: dict[str, str], start: int, end: int, retain_for_s: float
) -> list[dict[str, Any]]:
    """Loki 3's /patterns: the selector's lines clustered by Drain (here drain3), variable tokens as <_>, with
    [seconds, count] samples per step. The pattern ingester keeps its samples `retain_for_s` only: however wide
    the asked window, older lines have no sample (and a pattern seen only before then is not listed)."""
    kept_from = max(start, now_ns() - int(retain_for_s * 1e9))
    matchers, rest = parse_selector(params.get("query") or "")
    if rest.strip():
        raise QueryError("parse error : only a stream selector is allowed in a patterns query")
    step = max(1, int(float((params.get("step") or "60s").rstrip("s")))) * 10**9
    config = TemplateMinerConfig()
    config.parametrize_numeric_tokens = True
    miner = TemplateMiner(config=config)
    hits: list[tuple[int, int]] = []
    for stream in _select(streams, matchers):
        for ts, line in stream["values"]:
            if kept_from <= int(ts) <= end:
                hits.append((int(miner.add_log_message(line)["cluster_id"]), int(ts)))
    out = []
    for c in miner.drain.clusters:
        buckets: dict[int, int] = {}
        for cluster_id, ts in hits:
            if cluster_id == c.cluster_id:
                slot = start + (ts - start) // step * step
                buckets[slot] = buckets.get(slot, 0) + 1
        pattern = c.get_template().replace("<*>", "<_>")
        if buckets:
            out.append({"pattern": pattern, "samples": [[t // 10**9, n] for t, n in sorted(buckets.items())]})
    return out


def handle_loki(
    streams: list[dict[str, Any]],
    path: str,
    params: dict[str, str],
    *,
    patterns: bool = False,
    patterns_retain_for_s: float = PATTERNS_RETAIN_FOR_S,
) -> tuple[int, Any]:
    """Loki's HTTP API over `streams`. `patterns`: whether pattern ingestion is on (off, Loki's default: 404),
    keeping its samples `patterns_retain_for_s` seconds."""
    now = now_ns()
    start = _ns(params.get("start"), now - 3600 * 10**9)
    end = _ns(params.get("end"), now)
    stats = {"summary": {"bytesProcessedPerSecond": 0, "linesProcessedPerSecond": 0, "execTime": 0.001}}
    try:
        if path in ("/loki/api/v1/query_range", "/loki/api/v1/query"):
            query = params.get("query") or ""
            if path.endswith("/query"):
                times = [_ns(params.get("time"), now)]
            else:
                step = int(float(params.get("step") or 60) * 1e9)
                times = list(range(start, end + 1, step))
            series = _metric(streams, query, times)
            if series is not None:
                if path.endswith("/query"):
                    vector = [{"metric": s["metric"], "value": s["values"][-1]} for s in series]
                    return 200, {
                        "status": "success",
                        "data": {"resultType": "vector", "result": vector, "stats": stats},
                    }
                return 200, {"status": "success", "data": {"resultType": "matrix", "result": series, "stats": stats}}
            entries = _log_entries(streams, query, start, end)
            backward = params.get("direction", "backward") == "backward"
            entries.sort(key=lambda e: e[1], reverse=backward)
            entries = entries[: int(params.get("limit") or 100)]
            grouped: dict[tuple, dict[str, Any]] = {}
            for labels, ts, line in entries:
                key = tuple(sorted(labels.items()))
                grouped.setdefault(key, {"stream": dict(labels), "values": []})["values"].append([str(ts), line])
            result = list(grouped.values())
            return 200, {"status": "success", "data": {"resultType": "streams", "result": result, "stats": stats}}
        if path == "/loki/api/v1/patterns":
            if not patterns:
                return 404, "404 page not found\n"
            return 200, {"status": "success", "data": _patterns(streams, params, start, end, patterns_retain_for_s)}
        live = [s for s in streams if any(start <= int(ts) <= end for ts, _ in s["values"])]
        if params.get("query"):
            live = _select(live, parse_selector(params["query"])[0])
        if path == "/loki/api/v1/labels":
            names = sorted({k for s in live for k in s["stream"]})
            return 200, {"status": "success", "data": names}
        m = re.fullmatch(r"/loki/api/v1/label/([^/]+)/values", path)
        if m:
            values = sorted({s["stream"][m.group(1)] for s in live if m.group(1) in s["stream"]})
            return 200, {"status": "success", "data": values}
        if path == "/loki/api/v1/series":
            return 200, {"status": "success", "data": [s["stream"] for s in live]}
    except QueryError as exc:
        return 400, str(exc)
    except re.error as exc:
        return 400, f"parse error : invalid regex: {exc}"
    return 404, "404 page not found\n"


# ---------------------------------------------------------------------------------------------------------
# Prometheus (selectors and number literals only) with exact formats; errors as {"status":"error",...}.

_PROM_SELECTOR = re.compile(r"^\s*([A-Za-z_:][A-Za-z0-9_:]*)?\s*(\{.*\})?\s*$", re.S)
LOOKBACK_S = 300


def _prom_error(status: int, kind: str, message: str) -> tuple[int, Any]:
    return status, {"status": "error", "errorType": kind, "error": message}


def _prom_select(series: list[dict[str, Any]], expr: str) -> list[dict[str, Any]] | None:
    m = _PROM_SELECTOR.match(expr)
    if not m or not (m.group(1) or m.group(2)):
        return None
    matchers = parse_selector(m.group(2))[0] if m.group(2) else []
    if m.group(1):
        matchers.append(("__name__", "=", m.group(1)))
    return _select([{"stream": s["metric"], "s": s} for s in series], matchers)


def _sample_at(samples: list[tuple[float, Any]], t: float) -> Any:
    inside = [(ts, value) for ts, value in samples if t - LOOKBACK_S < ts <= t]
    return max(inside, key=lambda pair: pair[0])[1] if inside else None


def handle_prometheus(
    series: list[dict[str, Any]],
    path: str,
    params: dict[str, str],
    match: list[str],
    metadata: dict[str, list[dict[str, str]]] | None = None,
) -> tuple[int, Any]:
    expr = params.get("query", "")
    if path == "/api/v1/metadata":
        wanted = params.get("metric")
        data = {k: v for k, v in (metadata or {}).items() if not wanted or k == wanted}
        return 200, {"status": "success", "data": data}
    if path in ("/api/v1/query", "/api/v1/query_range") and not _PROM_SELECTOR.match(expr) and not _literal(expr):
        from .promql import evaluated

        return evaluated(series, path, params, expr)
    if path in ("/api/v1/query", "/api/v1/query_range"):
        if expr.count("(") != expr.count(")") or expr.count("{") != expr.count("}") or not expr.strip():
            return _prom_error(400, "bad_data", f'invalid parameter "query": 1:{len(expr)}: parse error: unclosed')
        try:
            float(expr)
            literal = True
        except ValueError:
            literal = False
        try:
            selected = None if literal else _prom_select(series, expr)
        except QueryError as exc:
            return _prom_error(400, "bad_data", f'invalid parameter "query": {exc}')
        if not literal and selected is None:
            return _prom_error(422, "execution", "the fake Prometheus only evaluates selectors")
        if path == "/api/v1/query":
            t = float(params.get("time") or time.time())
            if literal:
                return 200, {"status": "success", "data": {"resultType": "scalar", "result": [t, expr]}}
            vector = []
            for item in selected or []:
                value = _sample_at(item["s"]["samples"], t)
                if value is not None:
                    vector.append({"metric": item["stream"], "value": [t, str(value)]})
            return 200, {"status": "success", "data": {"resultType": "vector", "result": vector}}
        start, end, step = float(params["start"]), float(params["end"]), float(params["step"])
        if (end - start) / step > 11000:
            return _prom_error(400, "bad_data", "exceeded maximum resolution of 11,000 points per timeseries")
        times = [start + i * step for i in range(int((end - start) // step) + 1)]
        matrix = []
        for item in selected or []:
            values = [[t, str(v)] for t in times if (v := _sample_at(item["s"]["samples"], t)) is not None]
            if values:
                matrix.append({"metric": item["stream"], "values": values})
        return 200, {"status": "success", "data": {"resultType": "matrix", "result": matrix}}
    metrics = [s["metric"] for s in series]
    if match:
        keep = [s["stream"] for m in match for s in (_prom_select(series, m) or [])]
        metrics = [m for m in metrics if m in keep]
    if path == "/api/v1/labels":
        return 200, {"status": "success", "data": sorted({k for m in metrics for k in m})}
    m = re.fullmatch(r"/api/v1/label/([^/]+)/values", path)
    if m:
        return 200, {"status": "success", "data": sorted({x[m.group(1)] for x in metrics if m.group(1) in x})}
    if path == "/api/v1/series":
        return 200, {"status": "success", "data": metrics}
    return 404, {"status": "error", "errorType": "not_found", "error": "404 page not found"}


def _literal(expr: str) -> bool:
    try:
        float(expr)
    except ValueError:
        return False
    return True
