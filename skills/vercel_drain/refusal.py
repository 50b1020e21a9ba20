"""What a Loki 400 says it refused. A 400 is a partial acceptance: Loki stores the valid lines of the push and
names the others, in one of two formats (read from Loki's source, pkg/distributor and pkg/ingester):

- the distributor's validation errors, grouped: the distinct messages joined by "; ", each prefixed with
  "N errors like: " when there is more than one message or more than one of it. An entry's error (timestamp too
  old or too new, max entry size, structured metadata) stands for one line; a stream's error (its labels) for
  every line of that stream.
- the ingester's out-of-order refusal, which wins over the distributor's: a few "entry with timestamp ... ignored,
  reason: '...'" lines, then "user 'ID', total ignored: N out of M for stream: {labels}" for the last stream that
  had any. M counts the lines of that stream validation let through; the other streams' fate is not told.

Whatever the message does not say is counted as unknown, never as taken or refused.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

REASON_CHARS = 200

_TOTAL_IGNORED = re.compile(r"total ignored: (\d+) out of (\d+) for stream: (\{.*?\})(?:\n|$)")
_IGNORED_REASON = re.compile(r"ignored, reason: '(.*?)',\n")
_GROUP = re.compile(r"(?:^|; )(\d+) errors like: ")
_STREAM = re.compile(r"(?:stream|labels) '(\{.*?\})'")
_ENTRY_ERRORS = (
    "has timestamp too old: ",
    "has timestamp too new: ",
    "max entry size '",
    "includes structured metadata",
    "has structured metadata too large",
    "has too many structured metadata labels",
)
_STREAM_ERRORS = (
    "error parsing labels '",
    "has label name too long",
    "has label value too long",
    "has duplicate label name",
    " label names; limit ",
    "missing required labels '",
)


@dataclass(frozen=True)
class Refusal:
    lines: int  # in the batch
    refused: int  # lines Loki said it refused
    taken: int  # lines Loki's answer shows it stored
    reason: str  # Loki's first reason, at most REASON_CHARS
    readable: bool = True  # False: the message was in neither of Loki's formats

    @property
    def unknown(self) -> int:
        """Lines whose fate Loki's answer does not tell (taken or refused)."""
        return self.lines - self.refused - self.taken


def selector(labels: dict[str, str]) -> str:
    """A stream as Loki names it in its messages (Prometheus labels.String())."""
    pairs = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in sorted(labels.items()))
    return "{" + pairs + "}"


def stream_lines(body: bytes) -> dict[str, int]:
    """Lines per stream of a push body, keyed as Loki names the stream."""
    try:
        doc = json.loads(body)
        return {selector(s["stream"]): len(s["values"]) for s in doc["streams"]}
    except (ValueError, KeyError, TypeError):
        return {}


def _bounded(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 1] + "…"


def read_refusal(message: str, body: bytes, lines: int) -> Refusal:
    """How many of the batch's `lines` (pushed as `body`) Loki's 400 `message` says it refused and took."""
    streams = stream_lines(body)
    ignored = list(_TOTAL_IGNORED.finditer(message))
    if ignored:
        return _ingester(message, ignored, streams, lines)
    return _distributor(message.strip(), streams, lines)


def _ingester(message: str, ignored: list[re.Match[str]], streams: dict[str, int], lines: int) -> Refusal:
    reasons = _IGNORED_REASON.findall(message)
    reason = reasons[0] if reasons else message.strip().splitlines()[-1]
    refused = taken = 0
    for match in {m.group(3): m for m in ignored}.values():
        count, total, stream = int(match.group(1)), int(match.group(2)), match.group(3)
        refused += count
        ours = streams.get(stream)
        if ours is not None and ours >= total >= count:
            taken += total - count
            refused += ours - total  # validation dropped these before the ingester saw the stream
    refused, taken = min(refused, lines), min(taken, lines - min(refused, lines))
    return Refusal(lines, refused, taken, _bounded(reason))


def _distributor(message: str, streams: dict[str, int], lines: int) -> Refusal:
    parts = _GROUP.split(message)
    groups = (
        [(1, message)]
        if len(parts) == 1
        else [(int(n), text) for n, text in zip(parts[1::2], parts[2::2], strict=True)]
    )
    if len(parts) > 1 and parts[0]:
        groups.insert(0, (1, parts[0]))
    refused, counted = 0, True
    for n, text in groups:
        if any(marker in text for marker in _ENTRY_ERRORS):
            refused += n
            continue
        named = _STREAM.search(text)
        if named and named.group(1) in streams and any(marker in text for marker in _STREAM_ERRORS):
            refused += streams[named.group(1)]
            continue
        counted = False  # a message we cannot count: what it refused is unknown
    refused = min(refused, lines)
    readable = refused > 0
    taken = lines - refused if counted and readable else 0
    return Refusal(lines, refused, taken, _bounded(groups[0][1] if groups else message), readable)
