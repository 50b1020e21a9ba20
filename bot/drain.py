"""POST /drains/vercel: Vercel's log drain. Signature checked on the raw body before anything is parsed.

Vercel's endpoint verification is a POST that Vercel does not sign, with no entries (`{}`, `[]` or nothing): it gets
200 and `x-vercel-verify: <VERCEL_DRAIN_VERIFY>` (every answer carries that header; GET and HEAD answer it too),
and nothing is queued. A signed body (JSON array, single object or
NDJSON) is translated and queued whole, or refused whole with 503 so Vercel retries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from skills.vercel_drain import Relay
from skills.vercel_drain.translate import parse_body, signature_ok, to_lines

log = logging.getLogger(__name__)

ROUTE = "/drains/vercel"
MAX_DRAIN_BODY = 8 * 1024 * 1024
# Vercel's endpoint verification is an unsigned POST with no entries; its answer must be 200 with x-vercel-verify.
VERIFICATION_BODIES = frozenset({b"", b"[]", b"{}"})
RelayLookup = Callable[[web.Request], "Relay | None"]


def _answer(status: int, headers: dict[str, str], **body: Any) -> web.Response:
    return web.json_response(body, status=status, headers=headers)


async def _read(request: web.Request, limit: int) -> bytes | None:
    """The raw body, or None when it is larger than `limit`."""
    if (request.content_length or 0) > limit:
        return None
    chunks, total = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        total += len(chunk)
        if total > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def verify(relay: Relay | None) -> web.Response:
    if relay is None:
        return _answer(503, {}, error="the drain relay is not running")
    config = await relay.config()
    if not config.verify.value:
        return _answer(200, {}, ok=True, verify=False, hint="set VERCEL_DRAIN_VERIFY to the value Vercel shows")
    return _answer(200, {"x-vercel-verify": config.verify.value}, ok=True, verify=True)


async def receive(request: web.Request, relay: Relay | None) -> web.Response:
    if relay is None:
        return _answer(503, {"Retry-After": "5"}, error="the drain relay is not running")
    config = await relay.config()
    headers = {"x-vercel-verify": config.verify.value} if config.verify.value else {}
    raw = await _read(request, MAX_DRAIN_BODY)
    if raw is None:
        return _answer(413, headers, error=f"the body is larger than {MAX_DRAIN_BODY} bytes")
    if raw.strip() in VERIFICATION_BODIES:  # compared as bytes: nothing is parsed before the signature check
        return _answer(200, headers, ok=True, accepted=0)
    signature = request.headers.get("x-vercel-signature")
    if not config.secret.value:
        await relay.note_request(signed=False)
        return _answer(403, headers, error="VERCEL_DRAIN_SECRET is not set: the drain's signature cannot be checked")
    if not signature_ok(config.secret.value, raw, signature):
        await relay.note_request(signed=False)
        return _answer(403, headers, error="missing or wrong x-vercel-signature")
    entries, malformed = parse_body(raw)
    if len(entries) > relay.queue.maxsize:
        return _answer(413, headers, error=f"more than {relay.queue.maxsize} lines in one request")
    lines = to_lines(entries)
    if not relay.offer(lines):
        return _answer(503, {**headers, "Retry-After": "1"}, error="the relay queue is full; retry")
    await relay.note_request(signed=True, malformed=malformed)
    if malformed:
        log.info("drain request: %d lines queued, %d malformed skipped", len(lines), malformed)
    return _answer(200, headers, ok=True, accepted=len(lines), malformed=malformed)


def register(app: web.Application, lookup: RelayLookup) -> None:
    """Add the route; `lookup(request)` returns the running relay or None."""

    async def on_post(request: web.Request) -> web.Response:
        return await receive(request, lookup(request))

    async def on_get(request: web.Request) -> web.Response:
        return await verify(lookup(request))

    app.router.add_post(ROUTE, on_post)
    app.router.add_get(ROUTE, on_get)  # also answers HEAD
