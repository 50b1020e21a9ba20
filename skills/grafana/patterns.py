"""Error patterns: error-ish log lines clustered into templates by masking variable tokens as <*>."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from skills.base import SkillError, bounded
from skills.grafana import loki
from skills.grafana.explore import explore_url
from skills.grafana.results import clip
from skills.grafana.timeutil import TimeLike, TimeRange, from_ns, iso

if TYPE_CHECKING:
    from skills.grafana.api import GrafanaAPI

ERROR_FILTER = '|~ "(?i)(error|exception|fail|timeout|5\\\\d\\\\d)"'
DEFAULT_SCAN = 2000
DEFAULT_TOP = 20
WILDCARD = "<*>"
MAX_TEMPLATE = 300

# Order matters: the specific shapes first, bare numbers last.
_MASKS: list[re.Pattern[str]] = [
    re.compile(r"\"(?:[^\"\\]|\\.)*\"|(?<![A-Za-z])'(?:[^'\\]|\\.)*'"),  # quoted strings
    re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),  # UUID
    re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"),  # timestamp
    re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),  # e-mail
    re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b"),  # IPv4[:port]
    re.compile(r"\b(?:[0-9a-fA-F]{1,4}:){3,7}[0-9a-fA-F]{1,4}\b"),  # IPv6 (full form)
    re.compile(r"\b0x[0-9a-fA-F]+\b"),  # hex literal
    re.compile(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"),  # hex id
    re.compile(r"\b(?=(?:[\w-]*\d){2})(?=[\w-]*[A-Za-z])[\w-]{10,}\b"),  # long mixed ids: req_8f3k2j9x0, dpl_Hx9..
    re.compile(r"(?<![A-Za-z_])[-+]?\d+(?:[.,]\d+)*"),  # numbers (units stay: 5000ms -> <*>ms)
]
_RUNS = re.compile(r"<\*>(?:[\s.:,/_-]*<\*>)+")
_SPACE = re.compile(r"\s+")


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


def template_of(message: str) -> str:
    """The message with its variable parts masked as <*>."""
    text = message
    for pattern in _MASKS:
        text = pattern.sub(WILDCARD, text)
    text = _RUNS.sub(WILDCARD, text)
    text = _SPACE.sub(" ", text).strip()
    return clip(text, MAX_TEMPLATE)


@dataclass
class Cluster:
    pattern: str
    count: int
    example: str
    last_ns: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "count": self.count,
            "example": clip(self.example, MAX_TEMPLATE),
            "last_seen": iso(from_ns(self.last_ns)) if self.last_ns else None,
        }


def cluster(lines: Iterable[tuple[int, str]]) -> list[Cluster]:
    """(ns, line) pairs -> clusters by template, most frequent first (ties: most recent first)."""
    found: dict[str, Cluster] = {}
    for ns, line in lines:
        message = message_of(line)
        key = template_of(message)
        if not key:
            continue
        hit = found.get(key)
        if hit is None:
            found[key] = Cluster(key, 1, message, ns)
            continue
        hit.count += 1
        if ns > hit.last_ns:
            hit.last_ns, hit.example = ns, message
    return sorted(found.values(), key=lambda c: (-c.count, -c.last_ns))


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
    data = await loki.fetch(client, ds_uid, expr, window, limit=limit)
    if data.get("resultType") != "streams":
        raise SkillError("Grafana", "error patterns need a log query, not a metric query", "Drop the aggregation")
    lines = loki.entries(data)
    clusters = cluster((e[0], e[2]) for e in lines)
    envelope: dict[str, Any] = {
        "query": expr,
        "datasource_uid": ds_uid,
        "since": since if start is None else None,
        "start": iso(window.start),
        "end": iso(window.end),
        "lines_scanned": len(lines),
        "pattern_count": len(clusters),
        "explore_url": explore_url(client.base_url, ds_uid, "loki", expr, window),
    }
    if not clusters:
        hint = (
            f"no error lines in the last {since}, which is good news if logs are flowing; otherwise check the "
            f"selector with list_loki_labels. {loki.NO_LOGS[0].upper()}{loki.NO_LOGS[1:]}"
        )
        return dict(envelope, patterns=[], truncated=False, empty=True, hint=hint)
    envelope["truncated"] = len(lines) >= limit or len(clusters) > top
    rows = [c.to_dict() for c in clusters[:top]]
    hint = "counts cover the newest lines only or the top patterns; narrow the selector or the range to see more"
    result = bounded(envelope, "patterns", rows, hint=hint)
    if envelope["truncated"] and "hint" not in result:
        notes = []
        if len(lines) >= limit:
            notes.append(f"only the newest {limit} matching lines were scanned")
        if len(clusters) > top:
            notes.append(f"showing the top {top} of {len(clusters)} patterns")
        result["hint"] = "; ".join(notes) + ": narrow the selector or the range for exact counts"
    return result
