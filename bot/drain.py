"""POST /drains/vercel: Vercel's log drain. A body with a well-formed x-vercel-signature (and a secret to check it
with) is read under the unauthenticated-body budget (bot/bodies.py: at most MAX_DRAIN_BODY, as sent and once
inflated) and hashed as it arrives; nothing is parsed before the signature matches. With `compression: gzip`
(Content-Encoding: gzip) the signature may cover the bytes as sent or the inflated body: both are accepted.

Vercel's endpoint verification is a POST that Vercel does not sign, with no entries (`{}`, `[]` or nothing): it gets
200 and `x-vercel-verify: <VERCEL_DRAIN_VERIFY>` (every answer carries that header; GET and HEAD answer it too),
and nothing is queued. So a request without a signature is read only as far as a verification body goes
(VERIFY_MAX bytes, as sent and inflated), and refused 403 past that. A signed body (JSON array, single object or
NDJSON) is translated, stored and queued before the 200 (Vercel never sends again what got a 2xx), or refused
whole with 503 so Vercel retries: when the queue is full or the database does not take it. An NDJSON line that is
not a JSON object (or nests too deeply) is skipped and counted in `malformed`, alone.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.bodies import BodyRefused, read_body
from bot.http_guard import guard_of
from bot.web_auth import digest_matches, hex_digest
from skills.vercel_drain import Relay
from skills.vercel_drain.translate import parse_body, to_lines

log = logging.getLogger(__name__)

ROUTE = "/drains/vercel"
MAX_DRAIN_BODY = 8 * 1024 * 1024
# Vercel's endpoint verification is an unsigned POST with no entries; its answer must be 200 with x-vercel-verify.
VERIFICATION_BODIES = frozenset({b"", b"[]", b"{}"})
VERIFY_MAX = 64  # bytes of an unsigned body read, as sent and inflated: a verification body with room to spare
RelayLookup = Callable[[web.Request], "Relay | None"]


def _answer(status: int, headers: dict[str, str], **body: Any) -> web.Response:
    return web.json_response(body, status=status, headers=headers)


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
    given = hex_digest(request.headers.get("x-vercel-signature"), 40)
    if given is None or not config.secret.value:
        return await _unsigned(request, relay, headers, secret_set=bool(config.secret.value))
    # Vercel documents the signature as the HMAC-SHA1 of the body, not whether a gzip delivery is signed before
    # or after compression: either is accepted (both are what the secret's holder produced).
    sent = hmac.new(config.secret.value.encode(), digestmod=hashlib.sha1)
    inflated = sent.copy()
    try:
        body = await read_body(
            request, MAX_DRAIN_BODY, authenticated=False, wire_digests=[sent], data_digests=[inflated]
        )
    except BodyRefused as exc:
        return _answer(exc.status, {**headers, **exc.headers}, error=exc.message)
    raw = body.data
    if raw.strip() in VERIFICATION_BODIES:  # compared as bytes: nothing is parsed before the signature check
        return _answer(200, headers, ok=True, accepted=0)
    if not (
        digest_matches(sent.hexdigest(), given) or (body.compressed and digest_matches(inflated.hexdigest(), given))
    ):
        await relay.note_request(signed=False)
        guard_of(request.app).tally.note("unauthenticated", "refused drain requests with a wrong x-vercel-signature")
        return _answer(403, headers, error="missing or wrong x-vercel-signature")
    entries, malformed = parse_body(raw)
    if len(entries) > relay.queue.maxsize:
        return _answer(413, headers, error=f"more than {relay.queue.maxsize} lines in one request")
    lines = to_lines(entries)
    malformed += len(entries) - len(lines)  # entries that could not be written as a line
    try:
        queued = await relay.accept(lines, raw)
    except Exception as exc:  # not stored, so not acknowledged: Vercel sends it again
        log.warning("drain request not stored (%s: %s); answered 503", type(exc).__name__, exc)
        return _answer(503, {**headers, "Retry-After": "5"}, error="the lines could not be stored; retry")
    if not queued:
        return _answer(503, {**headers, "Retry-After": "1"}, error="the relay queue is full; retry")
    await relay.note_request(signed=True, malformed=malformed)
    await relay.deploys.observe(entries)  # a deployment seen for the first time is recorded as a change
    if malformed:
        log.info("drain request: %d lines queued, %d malformed skipped", len(lines), malformed)
    return _answer(200, headers, ok=True, accepted=len(lines), malformed=malformed)


async def _unsigned(request: web.Request, relay: Relay, headers: dict[str, str], *, secret_set: bool) -> web.Response:
    """No signature to check (none sent, or no secret): only Vercel's verification request is answered."""
    declared = request.content_length
    raw: bytes | None = None
    if declared is None or declared <= VERIFY_MAX:
        try:
            raw = (await read_body(request, VERIFY_MAX)).data
        except BodyRefused as exc:
            if exc.status not in (400, 413):
                return _answer(exc.status, {**headers, **exc.headers}, error=exc.message)
    if raw is not None and raw.strip() in VERIFICATION_BODIES:
        return _answer(200, headers, ok=True, accepted=0)
    await relay.note_request(signed=False)
    if not secret_set:
        return _answer(403, headers, error="VERCEL_DRAIN_SECRET is not set: the drain's signature cannot be checked")
    guard_of(request.app).tally.note("unauthenticated", "refused drain requests without x-vercel-signature")
    return _answer(403, headers, error="missing or wrong x-vercel-signature")


def register(app: web.Application, lookup: RelayLookup) -> None:
    """Add the route; `lookup(request)` returns the running relay or None."""

    async def on_post(request: web.Request) -> web.Response:
        return await receive(request, lookup(request))

    async def on_get(request: web.Request) -> web.Response:
        return await verify(lookup(request))

    app.router.add_post(ROUTE, on_post)
    app.router.add_get(ROUTE, on_get)  # also answers HEAD
