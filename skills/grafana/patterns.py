"""Error patterns: the error lines of a window grouped into templates, with counts over the whole window.

Loki 3 clusters lines itself (pattern ingestion, `/loki/api/v1/patterns`): when the instance has it and the query
is a bare stream selector, its patterns whose words name an error are the answer, counted over the whole window.
Its pattern ingester keeps samples for `retain_for` only (3h by default), whatever the window asked: when the
samples begin noticeably after the window does and Loki has error lines before them, those patterns would be
3 h of counts for a 12 h window, so the window is clustered here instead (and the hint says why).
Elsewhere (404: ingestion off; or a query with its own filters) the newest error lines are clustered here with
drain3 (the Drain algorithm Loki's pattern ingester also uses), and when those lines are not all of the window,
each shown pattern is counted over the whole window with one `count_over_time` query.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from skills.base import SkillError
from skills.grafana import loki
from skills.grafana.explore import explore_url
from skills.grafana.results import clip, point, sample
from skills.grafana.timeutil import TimeLike, TimeRange, from_ns, to_ns
from skills.results import bounded
from storage.times import iso

if TYPE_CHECKING:
    from drain3 import TemplateMiner

    from skills.grafana.api import GrafanaAPI

# A 5xx status as a word of its own: JSON lines carry ms timestamps, whose digits hold "5dd" almost always.
ERROR_WORDS = r"(?i)(error|exception|fail|timeout|\\b5\\d\\d\\b)"
ERROR_FILTER = f'|~ "{ERROR_WORDS}"'
_RE2_SPECIAL = re.compile(r"[\\.+*?()|\[\]{}^$]")  # what RE2 (Loki's regexps) reads as syntax
_ERRORISH = re.compile(r"(?i)(error|exception|fail|timeout|\b5\d\d\b)")
DEFAULT_SCAN = 2000
DEFAULT_TOP = 20
WILDCARD = "<*>"
LOKI_WILDCARD = "<_>"
MAX_TEMPLATE = 300
MAX_CLUSTERS = 1000
COUNT_CONCURRENCY = 4
PATTERN_POINTS = 60  # samples per pattern asked of Loki; they are summed over the window
T = TypeVar("T")


def message_of(line: str) -> str:
    """The human part of a log line: the message field of a JSON line (Vercel drains send JSON), else the line."""
    text = line.strip()
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError:
            return text
        if isinstance(obj, dict):
            for key in ("message", "msg", "error", "err", "log"):
                value = obj.get(key)
                if isinstance(value, str) and value.strip():
                    return value.strip()
                if isinstance(value, dict) and isinstance(value.get("message"), str):
                    return value["message"].strip()
            status = obj.get("statusCode") or (obj.get("proxy") or {}).get("statusCode")
            path = obj.get("path") or (obj.get("proxy") or {}).get("path")
            if status or path:
                return f"{status or '?'} {path or ''}".strip()
    return text


@dataclass
class Cluster:
    pattern: str
    count: int
    example: str  # the newest line's message; "" when Loki found the pattern (it sends no example)
    last_ns: int
    partial: bool = False  # counted in the scanned lines only (recounting over the window did not work)

    def to_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {"pattern": self.pattern, "count": self.count}
        if self.example:
            row["example"] = clip(self.example, MAX_TEMPLATE)
        row["last_seen"] = iso(from_ns(self.last_ns), millis=False) if self.last_ns else None
        if self.partial:
            row["counted"] = "in the scanned lines only"
        return row


def _miner() -> TemplateMiner:
    # lazy load: drain3 is needed only when Loki has no patterns endpoint, never for start-up
    from drain3 import TemplateMiner
    from drain3.template_miner_config import TemplateMinerConfig

    config = TemplateMinerConfig()  # drain3's defaults (similarity 0.4, depth 4), no masking, no persistence
    config.drain_max_clusters = MAX_CLUSTERS
    return TemplateMiner(config=config)


def cluster(lines: Iterable[tuple[int, str]]) -> list[Cluster]:
    """(ns, line) pairs -> drain3 clusters (varying tokens as <*>), most frequent first (ties: most recent first).

    The example of a cluster is its newest line's message."""
    miner = _miner()
    newest: dict[int, tuple[int, str]] = {}
    for ns, line in lines:
        message = message_of(line)
        if not message:
            continue
        found = miner.add_log_message(message)
        cluster_id = int(found["cluster_id"])
        if cluster_id not in newest or ns > newest[cluster_id][0]:
            newest[cluster_id] = (ns, message)
    clusters = [
        Cluster(clip(c.get_template(), MAX_TEMPLATE), c.size, newest[c.cluster_id][1], newest[c.cluster_id][0])
        for c in miner.drain.clusters
        if c.cluster_id in newest
    ]
    return sorted(clusters, key=lambda c: (-c.count, -c.last_ns))


def error_query(selector_or_query: str) -> str:
    """A bare stream selector gets the error line filter; a query with a pipeline is used as it is."""
    parts = loki.split_selector(selector_or_query)
    if parts is None:
        raise SkillError(
            "Grafana",
            f"{selector_or_query!r} is not a log query",
            'Pass a stream selector like {source="lambda"}, optionally with line filters; '
            "list_loki_labels shows the labels",
        )
    selector, pipeline = parts
    return f"{selector} {ERROR_FILTER}" if not pipeline else f"{selector} {pipeline}"


PATTERNS_FEATURE = "loki patterns"  # remembered by the discovery cache when the endpoint answers 404


@dataclass
class LokiPatterns:
    clusters: list[Cluster]
    first_s: float | None  # the earliest sample of any pattern (seconds): where Loki's counts begin; None: none
    step: int


def pattern_step(window: TimeRange) -> int:
    """The step (seconds) of Loki's pattern samples, and of the error counts they are checked against."""
    return max(1, int(window.seconds / PATTERN_POINTS))


async def loki_patterns(client: GrafanaAPI, uid: str, selector: str, window: TimeRange) -> LokiPatterns | None:
    """Loki's own patterns of the selector's lines whose words name an error, counted over the span its samples
    cover, most frequent first; None when the instance has pattern ingestion off (404)."""
    if client.discovery.lacks(PATTERNS_FEATURE, uid):
        return None  # known to be off: straight to the fallback, no 404 round trip first
    step = pattern_step(window)
    params = {"query": selector, "start": to_ns(window.start), "end": to_ns(window.end), "step": f"{step}s"}
    try:
        body = await client.proxy(uid, "loki/api/v1/patterns", params, upstream="Loki")
    except SkillError as exc:
        if exc.status == 404:
            client.discovery.note_lacking(PATTERNS_FEATURE, uid)
            return None
        raise
    client.discovery.note_present(PATTERNS_FEATURE, uid)
    rows = body.get("data") if isinstance(body, dict) else None
    start_s, end_s = window.start.timestamp(), window.end.timestamp()
    found: list[Cluster] = []
    first: float | None = None
    for row in rows if isinstance(rows, list) else []:
        pattern = str(row.get("pattern") or "") if isinstance(row, dict) else ""
        if not pattern:
            continue
        count, last = 0, 0.0
        for found_point in map(point, row.get("samples") or []):
            if found_point is None:
                continue
            ts, n = found_point[0], int(found_point[1])
            if start_s - step <= ts <= end_s and n > 0:
                count, last = count + n, max(last, ts)
                first = ts if first is None else min(first, ts)
        if count and _ERRORISH.search(pattern.replace(LOKI_WILDCARD, " ")):
            found.append(
                Cluster(clip(pattern.replace(LOKI_WILDCARD, WILDCARD), MAX_TEMPLATE), count, "", int(last * 1e9))
            )
    return LokiPatterns(sorted(found, key=lambda c: (-c.count, -c.last_ns)), first, step)


async def _settled(work: Awaitable[T]) -> T | BaseException:
    """The answer, or the exception it raised (for an answer that may turn out not to be needed)."""
    try:
        return await work
    except Exception as exc:
        return exc


async def _nothing() -> tuple[None, None]:
    return None, None


async def _loki_side(
    client: GrafanaAPI, uid: str, selector: str, expr: str, window: TimeRange
) -> tuple[LokiPatterns | None, list[tuple[float, float]] | None]:
    """Loki's patterns (None: this Loki has none) and the error counts per step (None: they failed), together."""
    found, counts = await asyncio.gather(
        loki_patterns(client, uid, selector, window), _settled(error_counts(client, uid, expr, window))
    )
    return found, None if isinstance(counts, BaseException) else counts


def _hours(seconds: float) -> str:
    return f"{round(seconds / 3600, 1):g} h" if seconds >= 3600 else f"{max(1, round(seconds / 60))} min"


def short_span(window: TimeRange, found: LokiPatterns, counts: list[tuple[float, float]] | None) -> str:
    """Why Loki's patterns are not the window's ("" when they are): their samples begin more than two steps
    after the window does, and `counts` (the window's error lines per step; None: unknown) has lines before them."""
    start_s, end_s = window.start.timestamp(), window.end.timestamp()
    begins = found.first_s if found.first_s is not None else end_s
    if begins <= start_s + 2 * found.step:
        return ""
    # unknown (the count failed): do not take the patterns for the window
    older = -1.0 if counts is None else sum(n for t, n in counts if t - found.step < begins)
    if not older:
        return ""  # nothing older to miss: the lines themselves begin there
    if found.first_s is None:
        return f"Loki's patterns have no sample of the last {_hours(end_s - start_s)}"
    return f"Loki's patterns cover only the last {_hours(end_s - begins)} of {_hours(end_s - start_s)}"


async def error_counts(client: GrafanaAPI, uid: str, expr: str, window: TimeRange) -> list[tuple[float, float]]:
    """The lines `expr` matches per pattern step over the window: (end of the step, count), summed over streams."""
    step = pattern_step(window)
    data = await loki.fetch(client, uid, f"sum(count_over_time({expr} [{step}s]))", window, limit=1, step=step)
    out: dict[float, float] = {}
    for series in data.get("result") or []:
        for found in map(point, (series.get("values") or []) if isinstance(series, dict) else []):
            if found is not None:
                out[found[0]] = out.get(found[0], 0.0) + found[1]
    return sorted(out.items())


def words_filter(template: str) -> str | None:
    """A LogQL line filter for the lines of a template: its fixed words in order, anything between them.

    Words a raw (JSON) line would carry escaped (quotes, backslashes) are left out, which only widens the match;
    None when nothing fixed is left."""
    words = [part for token in template.split() for part in token.split(WILDCARD) if part]
    kept = [_RE2_SPECIAL.sub(r"\\\g<0>", w) for w in words if not any(ch in w for ch in '"\\`')]
    return f"|~ `{'.*'.join(kept)}`" if kept else None


async def count_lines(client: GrafanaAPI, uid: str, expr: str, window: TimeRange) -> int:
    """How many lines `expr` matches over the whole window: one instant count_over_time at its end."""
    metric = f"sum(count_over_time({expr} [{max(1, int(window.seconds))}s]))"
    params = {"query": metric, "time": to_ns(window.end)}
    body = await client.proxy(uid, "loki/api/v1/query", params, upstream="Loki")
    data = body.get("data") if isinstance(body, dict) else None
    result = data.get("result") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(result, list) or not result:
        return 0
    if data.get("resultType") == "scalar":  # [<time>, "<value>"]
        value = sample(result[1]) if len(result) == 2 else None
    else:  # a vector: [{"metric": {}, "value": [<time>, "<value>"]}]
        first = result[0].get("value") if isinstance(result[0], dict) else None
        value = sample(first[1]) if isinstance(first, list) and len(first) == 2 else None
    return int(value) if value is not None else 0


async def _count_over_window(
    client: GrafanaAPI, uid: str, expr: str, shown: list[Cluster], window: TimeRange
) -> tuple[int, list[bool]]:
    """The window's error lines, and each shown cluster recounted over the window (True where that worked)."""
    gate = asyncio.Semaphore(COUNT_CONCURRENCY)

    async def one(query: str) -> int:
        async with gate:
            return await count_lines(client, uid, query, window)

    filters = [words_filter(c.pattern) for c in shown]
    jobs = [one(expr)] + [one(f"{expr} {f}") for f in filters if f]
    counts = await asyncio.gather(*jobs)
    total, per = counts[0], iter(counts[1:])
    recounted = []
    for c, f in zip(shown, filters, strict=True):
        n = next(per) if f else None
        if n is not None and n >= c.count:
            c.count = n
            recounted.append(True)
        else:  # no words, or fewer than seen (the words missed the raw lines): keep what was seen
            recounted.append(False)
    return total, recounted


async def error_patterns(
    client: GrafanaAPI,
    selector_or_query: str | None,
    since: str = "12h",
    *,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    limit: int = DEFAULT_SCAN,
    top: int = DEFAULT_TOP,
    uid: str | None = None,
) -> dict[str, Any]:
    ds_uid = await client.require_uid("loki", uid)
    window = TimeRange.resolve(since, start, end)
    lookback = since if start is None else f"{max(60, int(window.seconds))}s"
    if not selector_or_query:
        selector = await loki.default_selector(client, ds_uid, lookback)
        if selector is None:
            return {
                "query": None,
                "datasource_uid": ds_uid,
                "since": since,
                "lines_scanned": 0,
                "patterns": [],
                "truncated": False,
                "empty": True,
                "hint": f"no log streams in the last {since}: {loki.NO_LOGS}",
            }
        selector_or_query = selector
    expr = error_query(selector_or_query)
    selector, pipeline = loki.split_selector(selector_or_query) or (selector_or_query, "")
    envelope: dict[str, Any] = {
        "query": expr,
        "datasource_uid": ds_uid,
        "since": since if start is None else None,
        "start": iso(window.start, millis=False),
        "end": iso(window.end, millis=False),
        "explore_url": explore_url(client.base_url, ds_uid, "loki", expr, window),
    }
    # One round, none of these waiting on another's answer: Loki's own patterns (unless this Loki is known to lack
    # them, or the query has filters of its own), the window's error lines counted per step (whether those patterns
    # cover the window) and the newest error lines (drain3's input when they do not). What is not needed is unused.
    ask_loki = not pipeline and not client.discovery.lacks(PATTERNS_FEATURE, ds_uid)
    newest, (found, counts) = await asyncio.gather(
        _settled(loki.fetch(client, ds_uid, expr, window, limit=limit)),
        _loki_side(client, ds_uid, selector, expr, window) if ask_loki else _nothing(),
    )
    notes: list[str] = []
    short = short_span(window, found, counts) if found is not None else ""
    if short:
        notes.append(f"{short} (their retain_for): clustered here over the whole window instead")
        envelope["loki_patterns_span"] = short
    if found is not None and not short:
        clusters = found.clusters
        envelope.update(source="loki patterns", counted="window", error_lines=sum(c.count for c in clusters))
    else:
        if isinstance(newest, BaseException):
            raise newest
        if newest.get("resultType") != "streams":
            raise SkillError("Grafana", "error patterns need a log query, not a metric query", "Drop the aggregation")
        lines = loki.entries(newest)
        clusters = cluster((e[0], e[2]) for e in lines)
        envelope.update(source="drain3", lines_scanned=len(lines), counted="window", error_lines=len(lines))
        if len(lines) >= limit and clusters:
            # Depends on the answer above: the patterns to count are those found in the newest lines.
            total, recounted = await _count_over_window(client, ds_uid, expr, clusters[:top], window)
            envelope["error_lines"] = max(total, len(lines))
            clusters[:top] = sorted(clusters[:top], key=lambda c: (-c.count, -c.last_ns))
            if not all(recounted):
                envelope["counted"] = "window, or the newest lines where marked"
                for c, ok in zip(clusters[:top], recounted, strict=True):
                    c.partial = not ok
            notes.append(f"patterns found in the newest {limit} error lines")
    envelope["pattern_count"] = len(clusters)
    if not clusters:
        hint = (
            f"no error lines in the last {since}, which is good news if logs are flowing; otherwise check the "
            f"selector with list_loki_labels. {loki.NO_LOGS[0].upper()}{loki.NO_LOGS[1:]}"
        )
        return dict(envelope, patterns=[], truncated=False, empty=True, hint=hint)
    if len(clusters) > top:
        notes.append(f"showing the top {top} of {len(clusters)} patterns")
    # cut: more patterns than shown, or patterns looked for in the newest lines only (older ones may be missing)
    envelope["truncated"] = len(clusters) > top or envelope.get("lines_scanned", 0) >= limit
    rows = [c.to_dict() for c in clusters[:top]]
    result = bounded(envelope, "patterns", rows, hint="narrow the selector or the range to see every pattern")
    if notes and "hint" not in result:
        result["hint"] = "; ".join(notes) + "; narrow the selector or the range to see every pattern"
    return result
