"""GitHub's rate-limit rules, as its REST docs give them ("Rate limits for the REST API", "Best practices").

A refusal is a 403 or 429 that is a rate limit: a primary limit has `x-ratelimit-remaining: 0`; a secondary
limit says so in its message (and may carry `retry-after`). What to do, in GitHub's order:

1. `retry-after` present: send nothing before that many seconds have passed;
2. `x-ratelimit-remaining: 0`: send nothing before `x-ratelimit-reset` (UTC epoch seconds), even an hour away;
3. otherwise wait at least a minute, doubling the wait while the secondary limit keeps refusing.

`RateLimits` keeps, per scope (the App, or one installation: each has its own budget), the time before which
nothing is sent, so a long wait is a deferral (`RateLimited`, with the time) rather than a sleeping coroutine.
A 403 that is none of these is a real permission refusal.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from skills.base import SkillError

INTEGRATION = "GitHub"
PRIMARY = "primary rate limit"
SECONDARY = "secondary rate limit"
SECONDARY_FIRST_WAIT_S = 60.0  # "wait for at least one minute before retrying"
SECONDARY_MAX_WAIT_S = 3600.0
RESET_MARGIN_S = 1.0  # x-ratelimit-reset is whole seconds: the first request goes just after it


def clock_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M UTC")


class RateLimited(SkillError):
    """GitHub refused for rate limiting (or would: the scope is still waiting). Nothing may be sent before `until`."""

    def __init__(self, until: float, kind: str, status: int | None) -> None:
        self.until = until
        self.kind = kind
        super().__init__(
            INTEGRATION,
            f"rate-limited until {clock_time(until)} ({kind})",
            "sitrep sends GitHub nothing before then; reviews are deferred and run after it",
            status=status,
        )


@dataclass(frozen=True)
class Block:
    until: float
    kind: str
    status: int


def refusal_kind(status: int, headers: httpx.Headers, body: Any) -> str | None:
    """PRIMARY or SECONDARY when this answer is a rate-limit refusal; None otherwise (a 403 is then a permission)."""
    if status not in (403, 429):
        return None
    if headers.get("x-ratelimit-remaining") == "0" and "retry-after" not in headers:
        return PRIMARY
    message = str(body.get("message") or "") if isinstance(body, dict) else ""
    lowered = message.lower()
    if "retry-after" in headers or status == 429 or "rate limit" in lowered or "abuse" in lowered:
        return SECONDARY
    return None


def retry_after(value: str, now: float) -> float | None:
    """`retry-after` in seconds (or an HTTP date), from `now`."""
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


class RateLimits:
    """The time before which each scope sends nothing, and the secondary-limit back-off of each scope."""

    def __init__(self) -> None:
        self._blocks: dict[str, Block] = {}
        self._strikes: dict[str, int] = {}

    def refused(self, scope: str, kind: str, status: int, headers: httpx.Headers, now: float) -> float:
        """Record a refusal; the seconds to wait before this scope sends anything again."""
        wait: float | None = None
        if "retry-after" in headers:
            wait = retry_after(headers["retry-after"], now)
        elif kind == PRIMARY:
            try:
                wait = max(0.0, float(headers.get("x-ratelimit-reset", "")) - now) + RESET_MARGIN_S
            except ValueError:
                wait = None
        if wait is None:  # a secondary limit without a wait: a minute, doubled on each refusal in a row
            strikes = self._strikes.get(scope, 0)
            self._strikes[scope] = strikes + 1
            wait = min(SECONDARY_FIRST_WAIT_S * 2**strikes, SECONDARY_MAX_WAIT_S)
        self._blocks[scope] = Block(now + wait, kind, status)
        return wait

    def succeeded(self, scope: str) -> None:
        self._strikes.pop(scope, None)

    def blocked(self, scopes: list[str], now: float) -> Block | None:
        """The latest wait in force over these scopes; None when they may send."""
        live = [b for s in scopes if (b := self._blocks.get(s)) is not None and b.until > now]
        return max(live, key=lambda b: b.until) if live else None
