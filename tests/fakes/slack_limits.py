"""Slack's Web API rate limits, as the fake Slack enforces them when asked (`FakeSlack(rate_limits=SlackLimits())`).

From https://api.slack.com/apis/rate-limits and each method's page (e.g.
https://api.slack.com/methods/chat.postMessage#rate_limiting):
- Limits apply per method, per app, per workspace, in tiers: Tier 1 1+ a minute, Tier 2 20+, Tier 3 50+, Tier 4
  100+; "occasional bursts" are tolerated.
- chat.postMessage has its own ("special") limit: about one message per second per channel, short bursts over
  one allowed, and a workspace-wide limit on top.
- Over a limit, Slack answers HTTP 429 Too Many Requests with a `Retry-After` header (whole seconds until the
  method may be called again) and the body `{"ok": false, "error": "ratelimited"}`.

Each limit is a token bucket: `burst` calls at once, refilled at the tier's rate. Retry-After is the whole number
of seconds (at least 1) until the bucket holds a token again, as Slack rounds it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}

# The tier of each method the app calls (each method's reference page, "Rate limits").
METHOD_TIERS = {
    "apps.connections.open": 1,
    "auth.test": 4,  # "Special": generous
    "chat.update": 3,
    "chat.delete": 3,
    "chat.postEphemeral": 4,
    "conversations.info": 3,
    "conversations.join": 3,
    "conversations.history": 3,
    "conversations.replies": 3,
    "reactions.add": 3,
    "reactions.remove": 2,
    "users.info": 4,
    "views.open": 4,
    "views.push": 4,
    "views.update": 4,
    "views.publish": 4,
    "assistant.threads.setStatus": 3,
}


@dataclass
class Bucket:
    rate: float  # tokens a second
    burst: float
    tokens: float = -1.0
    at: float = 0.0

    def take(self, now: float) -> float:
        """0 when a call may go now (a token taken), else the seconds until one may."""
        if self.tokens < 0:
            self.tokens, self.at = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class SlackLimits:
    """What the fake enforces. `posts_per_second` and `post_burst`: chat.postMessage per channel; `tier_burst`:
    how many calls of a tiered method may come at once (a fraction of a minute's allowance); `workspace_posts`:
    chat.postMessage across every channel, a second (None: not enforced)."""

    posts_per_second: float = 1.0
    post_burst: int = 3
    tier_burst_fraction: float = 0.2
    workspace_posts: float | None = None
    buckets: dict[str, Bucket] = field(default_factory=dict)
    limited: list[tuple[str, str, int]] = field(default_factory=list)  # (method, key, Retry-After) of each 429

    def check(self, method: str, args: dict, now: float | None = None) -> int:
        """0 when the call is within the limits, else the Retry-After (seconds) of a 429."""
        now = time.monotonic() if now is None else now
        keys = self._buckets(method, args)
        waits = [self._bucket(key, rate, burst).take(now) for key, rate, burst in keys]
        wait = max(waits, default=0.0)
        if wait <= 0:
            return 0
        for (key, rate, burst), took in zip(keys, waits, strict=True):
            if took <= 0:  # refund what this refused call took from the other buckets
                bucket = self._bucket(key, rate, burst)
                bucket.tokens = min(bucket.burst, bucket.tokens + 1)
        retry_after = max(1, math.ceil(wait))
        self.limited.append((method, keys[0][0] if keys else method, retry_after))
        return retry_after

    def count(self, method: str | None = None) -> int:
        """How many calls (of `method`) were answered 429."""
        return sum(1 for m, _, _ in self.limited if method is None or m == method)

    def _buckets(self, method: str, args: dict) -> list[tuple[str, float, float]]:
        if method == "chat.postMessage":
            keys = [(f"chat.postMessage:{args.get('channel', '')}", self.posts_per_second, float(self.post_burst))]
            if self.workspace_posts:
                keys.append(("chat.postMessage", self.workspace_posts, self.workspace_posts))
            return keys
        tier = METHOD_TIERS.get(method)
        if tier is None:
            return []
        per_minute = TIER_PER_MINUTE[tier]
        return [(method, per_minute / 60.0, max(1.0, per_minute * self.tier_burst_fraction))]

    def _bucket(self, key: str, rate: float, burst: float) -> Bucket:
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = Bucket(rate, burst)
        return bucket
