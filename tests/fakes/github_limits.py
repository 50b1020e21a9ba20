"""GitHub's rate limits and conditional requests, as the fake GitHub keeps them (docs.github.com: "Rate limits for
the REST API", "Best practices for using the REST API").

Primary limit: a budget per hour window (5,000 for an installation); every answer carries x-ratelimit-limit,
-remaining, -used, -reset (UTC epoch seconds) and -resource. A 304 does not count against it. Over it: 403 (or
429) with x-ratelimit-remaining: 0 until x-ratelimit-reset, "API rate limit exceeded for ...".

Secondary limits (concurrency, points per minute, content creation): 403 or 429 with a message saying a
secondary rate limit was exceeded; `retry-after` may or may not be present, and x-ratelimit-remaining is
whatever the primary budget has left (not 0).

Conditional requests: every GET answer carries an ETag; GitHub varies it by Accept and Authorization (the
answer's `Vary`), so an ETag learned with one token does not match under another: the request with the new
token is answered 200 in full, and only the same token's ETag earns a 304.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

LIMIT = 5000
WINDOW_S = 3600
PRIMARY = "primary"  # x-ratelimit-remaining: 0 until x-ratelimit-reset
RETRY_AFTER = "retry-after"  # a secondary limit with retry-after
SECONDARY = "secondary"  # a secondary limit without retry-after (wait at least a minute, then back off)
SHAPES = (PRIMARY, RETRY_AFTER, SECONDARY)
VARY = "Accept, Authorization, Cookie, X-GitHub-OTP"
PRIMARY_MESSAGE = (
    "API rate limit exceeded for installation ID {installation}. If you reach out to GitHub Support for help, "
    "please include the request ID 0000:1111:2222:3333:4444."
)
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out "
    "to GitHub Support for help, please include the request ID 0000:1111:2222:3333:4444."
)
DOCS = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"


@dataclass
class Refusal:
    shape: str
    status: int = 403
    retry_after: int = 60
    reset_in: int = WINDOW_S


class RateLimits:
    """The primary budget of the hour window, and the refusals a test queued for the next requests."""

    def __init__(self, clock: Callable[[], float], limit: int = LIMIT) -> None:
        self.clock = clock
        self.limit = limit
        self.remaining = limit
        self.reset_at = int(clock()) + WINDOW_S
        self.queued: list[Refusal] = []
        self.free_304 = 0  # 304s answered (free)
        self.primary_status = 403  # GitHub answers 403 or 429 when the budget is spent

    def queue(self, shape: str, times: int, *, status: int, retry_after: int, reset_in: int) -> None:
        assert shape in SHAPES, shape
        self.queued += [Refusal(shape, status, retry_after, reset_in) for _ in range(times)]

    def _roll(self) -> None:
        now = self.clock()
        if now >= self.reset_at:
            self.remaining = self.limit
            self.reset_at = int(now) + WINDOW_S

    def headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-used": str(self.limit - self.remaining),
            "x-ratelimit-reset": str(self.reset_at),
            "x-ratelimit-resource": "core",
        }

    def refusal(self, installation: int | str) -> web.Response | None:
        """The refusal for this request, or None when it may be answered."""
        self._roll()
        if self.queued:
            refusal = self.queued.pop(0)
            if refusal.shape == PRIMARY:
                self.remaining = 0
                self.reset_at = int(self.clock()) + refusal.reset_in
                self.primary_status = refusal.status
            else:
                headers = self.headers()
                if refusal.shape == RETRY_AFTER:
                    headers["retry-after"] = str(refusal.retry_after)
                body = {"message": SECONDARY_MESSAGE, "documentation_url": DOCS}
                return web.json_response(body, status=refusal.status, headers=headers)
        if self.remaining <= 0:
            body = {"message": PRIMARY_MESSAGE.format(installation=installation), "documentation_url": DOCS}
            return web.json_response(body, status=self.primary_status, headers=self.headers())
        return None

    def answered(self, response: web.StreamResponse) -> None:
        """Count the answer against the budget (a 304 is free) and stamp the rate-limit headers on it."""
        if response.status == 304:
            self.free_304 += 1
        else:
            self.remaining = max(0, self.remaining - 1)
        response.headers.update(self.headers())


def etag_of(request: web.Request, body: bytes) -> str:
    """A weak ETag over the body and what the answer varies by (Accept, Authorization)."""
    digest = hashlib.sha256()
    for part in (request.headers.get("Accept", ""), request.headers.get("Authorization", "")):
        digest.update(part.encode() + b"\0")
    digest.update(body)
    return 'W/"' + digest.hexdigest()[:32] + '"'


def conditional(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """A GET's 200 with its ETag; a 304 (no body) when If-None-Match names that ETag."""
    if request.method != "GET" or response.status != 200 or not isinstance(response, web.Response):
        return response
    etag = etag_of(request, response.body if isinstance(response.body, bytes) else b"")
    response.headers["ETag"] = etag
    response.headers["Vary"] = VARY
    sent = [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",") if tag.strip()]
    if etag in sent or "*" in sent:
        return web.Response(status=304, headers={"ETag": etag, "Vary": VARY})
    return response
