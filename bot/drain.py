"""POST /drains/vercel: Vercel's log drain. The whole body is read (bot/bodies.py: at most MAX_DRAIN_BODY, as sent
and once inflated) and its signature checked before anything is parsed. With `compression: gzip` (Content-Encoding:
gzip) the signature may cover the bytes as sent or the inflated body: both are accepted.

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

from bot.bodies import Body, BodyRefused, read_body
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


def _signed(secret: str, body: Body, signature: str | None) -> bool:
    """Vercel documents the signature as the HMAC-SHA1 of the body, not whether a gzip delivery is signed before
    or after compression: either is accepted (both are what the secret's holder produced)."""
    if signature_ok(secret, body.wire, signature):
        return True
    return body.compressed and signature_ok(secret, body.data, signature)


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
    try:
        body = await read_body(request, MAX_DRAIN_BODY)  # compressed or not: at most MAX_DRAIN_BODY either way
    except BodyRefused as exc:
        return _answer(exc.status, headers, error=exc.message)
    raw = body.data
    if raw.strip() in VERIFICATION_BODIES:  # compared as bytes: nothing is parsed before the signature check
        return _answer(200, headers, ok=True, accepted=0)
    signature = request.headers.get("x-vercel-signature")
    if not config.secret.value:
        await relay.note_request(signed=False)
        return _answer(403, headers, error="VERCEL_DRAIN_SECRET is not set: the drain's signature cannot be checked")
    if not _signed(config.secret.value, body, signature):
        await relay.note_request(signed=False)
        return _answer(403, headers, error="missing or wrong x-vercel-signature")
    entries, malformed = parse_body(raw)
    if len(entries) > relay.queue.maxsize:
        return _answer(413, headers, error=f"more than {relay.queue.maxsize} lines in one request")
    lines = to_lines(entries)
    if not relay.offer(lines):
        return _answer(503, {**headers, "Retry-After": "1"}, error="the relay queue is full; retry")
    await relay.note_request(signed=True, malformed=malformed)
    await relay.deploys.observe(entries)  # a deployment seen for the first time is recorded as a change
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
