"""What the relay has seen: requests, lines, pushes and Loki's last refusal. Saved for readiness in any process."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from skills.vercel_drain.refusal import Refusal

RATE_WINDOW_S = 300  # lines per minute are averaged over the last five minutes


@dataclass
class RelayStatus:
    requests: int = 0
    last_request_at: float | None = None  # wall clock, seconds
    bad_signatures: int = 0
    last_bad_signature_at: float | None = None
    accepted_lines: int = 0
    malformed_lines: int = 0
    refused_requests: int = 0  # 503: the queue was full
    pushed_lines: int = 0
    pushed_batches: int = 0
    last_push_ok_at: float | None = None
    last_error_status: int | None = None  # None with last_error_at set: Loki could not be reached
    last_error: str = ""
    last_error_at: float | None = None
    rejected_lines: int = 0  # lines a Loki 400 said it refused (a 400 is never retried)
    unknown_lines: int = 0  # lines of a 400 whose answer did not tell whether Loki took them
    last_refusal: str = ""  # the last 400: what Loki took and refused, and its reason (bounded)
    last_refusal_at: float | None = None
    spilled_lines: int = 0
    dropped_lines: int = 0  # the spill table was full: oldest dropped
    backlog_lines: int = 0
    adopted_lines: int = 0  # acknowledged lines taken from the inbox a stopped or dead relay left
    pushed_by_minute: dict[str, int] = field(default_factory=dict)  # "<minute since epoch>" -> lines

    def pushed(self, lines: int, now: float | None = None) -> None:
        now = time.time() if now is None else now
        self.pushed_lines += lines
        self.pushed_batches += 1
        self.last_push_ok_at = now
        minute = str(int(now // 60))
        self.pushed_by_minute[minute] = self.pushed_by_minute.get(minute, 0) + lines
        oldest = int((now - RATE_WINDOW_S) // 60)
        for key in [k for k in self.pushed_by_minute if int(k) < oldest]:
            del self.pushed_by_minute[key]

    def refused(self, refusal: Refusal, now: float | None = None) -> None:
        """A 400: Loki took some lines (counted as pushed), refused others, and may not tell about the rest."""
        now = time.time() if now is None else now
        self.rejected_lines += refusal.refused
        self.unknown_lines += refusal.unknown
        if refusal.taken:
            self.pushed(refusal.taken, now)
        self.last_refusal, self.last_refusal_at = describe(refusal), now
        if not refusal.taken:
            self.failed(400, refusal.reason, now)

    def failed(self, status: int | None, message: str, now: float | None = None) -> None:
        self.last_error_status, self.last_error = status, message[:300]
        self.last_error_at = time.time() if now is None else now

    def to_document(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> RelayStatus:
        known = {k: v for k, v in document.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def describe(refusal: Refusal) -> str:
    """One bounded phrase: what Loki took and refused of a batch, and why (after "Loki answered 400: ")."""
    if not refusal.readable:
        return f"{refusal.lines} lines of unknown fate, count unknown (the answer names no line): {refusal.reason}"
    said = f"took {refusal.taken} of {refusal.lines} lines, refused {refusal.refused}"
    if refusal.unknown:
        said += f", {refusal.unknown} of unknown fate"
    return f"{said}: {refusal.reason}"


def lines_per_minute(status: RelayStatus, now: float | None = None) -> float:
    now = time.time() if now is None else now
    since = int((now - RATE_WINDOW_S) // 60)
    total = sum(v for k, v in status.pushed_by_minute.items() if int(k) > since)
    return total / (RATE_WINDOW_S / 60)
