"""A Vercel drain body -> Loki lines. One line per entry: the entry's JSON, so `| json` works in LogQL.

Labels are few and low-cardinality: service_name="vercel", source, level, environment, project (name, else id).
Request ids, paths and hosts stay in the line, never in the labels.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from functools import lru_cache
from json.encoder import encode_basestring_ascii as _literal
from typing import Any

SERVICE = "vercel"
SOURCES = frozenset({"build", "static", "lambda", "edge", "external", "firewall", "redirect"})
LEVELS = {"debug": "debug", "info": "info", "warn": "warning", "warning": "warning", "error": "error"}
LEVELS |= {"fatal": "fatal", "critical": "fatal"}
MAX_LABEL_VALUE = 64
Labels = tuple[tuple[str, str], ...]


@dataclass(slots=True)
class Line:
    labels: Labels  # sorted (name, value) pairs: the stream
    ns: int  # the entry's time, ns since the epoch
    literal: str  # the line as a JSON string literal, ready for the push body
    received: float  # time.monotonic() at receipt, for the relay's latency
    row: int = 0  # the drain_inbox row of the request it came in (skills/vercel_drain/inbox.py)

    @property
    def size(self) -> int:
        return len(self.literal) + 26  # ["<19 digits>",<literal>],


def signature_ok(secret: str, raw: bytes, given: str | None) -> bool:
    """x-vercel-signature: hex HMAC-SHA1 of the raw body keyed with the drain secret; compared in constant time."""
    if not given:
        return False
    expected = hmac.new(secret.encode(), raw, hashlib.sha1).hexdigest().encode()
    return hmac.compare_digest(expected, given.strip().lower().encode("utf-8", "replace"))


def parse_body(raw: bytes) -> tuple[list[tuple[dict[str, Any], str | None]], int]:
    """(entries, malformed count) of a JSON array, a single JSON object, or NDJSON.

    Each entry comes with its NDJSON line as sent (None for an array or a single object), so the Loki line can
    be Vercel's own text rather than a re-encoding.
    """
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        text = raw.decode("utf-8", "replace").strip()
    if not text:
        return [], 0
    if text[0] in "[{":
        try:
            whole = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: nested past what the parser can follow
            whole = None
            if text[0] == "[":
                return [], 1  # a broken array has no lines to save
        if isinstance(whole, list):
            items: list[tuple[dict[str, Any], str | None]] = [(e, None) for e in whole if isinstance(e, dict)]
            return items, len(whole) - len(items)
        if isinstance(whole, dict):
            return [(whole, None)], 0
    entries: list[tuple[dict[str, Any], str | None]] = []
    malformed = 0
    decode = _DECODER.raw_decode  # json.loads without its per-call wrapping: the drain's hot loop
    for chunk in text.split("\n"):
        line = chunk.strip()
        if not line:
            continue
        try:
            entry, end = decode(line)
        except (ValueError, RecursionError):  # one bad line is skipped alone, never the batch
            malformed += 1
            continue
        if end == len(line) and isinstance(entry, dict):
            entries.append((entry, line))
        else:
            malformed += 1
    return entries, malformed


_DECODER = json.JSONDecoder()


def _label(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()[:MAX_LABEL_VALUE]
    return None


def labels_of(entry: dict[str, Any]) -> Labels:
    get = entry.get
    key = (get("source"), get("level"), get("type"), get("environment"), get("projectName"), get("projectId"))
    try:
        return _labels(*key)  # a drain sends a few label sets, over and over
    except TypeError:  # an unhashable value (a list, an object): computed, not cached
        return _labels.__wrapped__(*key)


@lru_cache(maxsize=10_000, typed=True)  # typed: True and 1 are different levels
def _labels(source: Any, level: Any, kind: Any, environment: Any, name: Any, project_id: Any) -> Labels:
    labels = {"service_name": SERVICE}
    if source := _label(source):
        labels["source"] = source if source in SOURCES else "other"
    labels["level"] = LEVELS.get(str(level or "").lower()) or ("error" if kind == "stderr" else "info")
    if environment := _label(environment):
        labels["environment"] = environment
    if project := _label(name) or _label(project_id):
        labels["project"] = project
    return tuple(sorted(labels.items()))


def timestamp_ns(entry: dict[str, Any], fallback_ns: int) -> int:
    """Vercel's `timestamp` (ms since the epoch) in ns; the receipt time when it is missing or not a number."""
    value = entry.get("timestamp")
    if isinstance(value, bool):
        return fallback_ns
    if isinstance(value, int):
        return value * 1_000_000
    if isinstance(value, float):
        return int(value * 1_000_000)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip()) * 1_000_000
    return fallback_ns


def to_lines(entries: list[tuple[dict[str, Any], str | None]]) -> list[Line]:
    """Loki lines of parsed entries: the NDJSON line as sent, else the entry re-encoded as compact JSON. An entry
    that cannot be re-encoded (nested past what the encoder follows) is left out; the caller counts it."""
    received, now_ns = time.monotonic(), time.time_ns()
    lines = []
    for entry, sent in entries:
        try:
            text = sent if sent is not None else json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        except RecursionError:
            continue
        lines.append(Line(labels_of(entry), timestamp_ns(entry, now_ns), _literal(text), received))
    return lines


def push_body(lines: list[Line]) -> bytes:
    """Loki's push JSON: {"streams":[{"stream":{labels},"values":[["<ns>","<line>"],...]}]}, each stream sorted."""
    streams: dict[Labels, list[Line]] = {}
    for line in lines:
        streams.setdefault(line.labels, []).append(line)
    parts = []
    for labels, members in streams.items():
        members.sort(key=lambda m: m.ns)
        values = ",".join(f'["{m.ns}",{m.literal}]' for m in members)
        parts.append(f'{{"stream":{json.dumps(dict(labels))},"values":[{values}]}}')
    return ('{"streams":[' + ",".join(parts) + "]}").encode()
