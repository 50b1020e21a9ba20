"""Request bodies read whole and bounded, for every route that takes one (GitHub's webhook, Vercel's drain, the
alert webhooks, the admin API).

A body crosses the internet in pieces: `request.content.read(n)` returns only what has arrived so far, so a 30 KB
webhook read that way is hashed as its first 16 KB and refused. `read_body` reads to the end, and stops as soon
as it can tell the body will not be taken, without keeping what came:

- before the first byte: a Content-Encoding the route does not take (415), a Content-Length over its limit (413),
  and, for a body that is not authenticated yet, a place in the unauthenticated-body budget (bot/http_guard.py:
  503 when none frees up in time);
- as it arrives: more than `limit` bytes (413), a body too slow (408, bot/http_guard.py's `body_s` and
  `body_idle_s`), the client gone (logged once at INFO, never a traceback).

The route's HMACs are fed as the body streams in (`wire_digests`: the bytes as sent; `data_digests`: as
decoded), so a signature is known the moment the last byte is, and a refused body is never joined into one
buffer. The web server runs with aiohttp's automatic decompression off (bot/web.py): gzip or deflate is inflated
here, piece by piece (bot/inflate.py), handing the event loop back after each piece.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from bot.http_guard import guard_of
from bot.inflate import PIECE, BodyRefused, Inflater, inflate

__all__ = ["ANY_ENCODING", "COMPRESSED", "IDENTITY", "PIECE", "Body", "BodyRefused", "inflate", "read_body"]

COMPRESSED = frozenset({"gzip", "x-gzip", "deflate"})
IDENTITY = frozenset({"", "identity"})
ANY_ENCODING = COMPRESSED | IDENTITY


class Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...


@dataclass
class Body:
    pieces: list[bytes] = field(repr=False)
    encoding: str  # the Content-Encoding, lower case ("" when none)
    wire_bytes: int  # as sent

    @property
    def compressed(self) -> bool:
        return self.encoding in COMPRESSED

    @cached_property
    def data(self) -> bytes:
        """The body with its Content-Encoding removed, as one buffer (joined on first use)."""
        data = b"".join(self.pieces)
        self.pieces = []
        return data


def content_encoding(request: web.Request, allowed: frozenset[str] = ANY_ENCODING) -> str:
    """The request's Content-Encoding, lower case; BodyRefused(415) when the route does not take it."""
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in allowed:
        takes = "no Content-Encoding" if allowed <= IDENTITY else "gzip, deflate or none"
        raise BodyRefused(415, f"Content-Encoding {encoding[:40]!r} is not taken here ({takes})")
    return encoding


def check_length(request: web.Request, limit: int) -> None:
    if (request.content_length or 0) > limit:
        raise BodyRefused(413, f"the body is larger than {limit} bytes")


async def read_body(
    request: web.Request,
    limit: int,
    *,
    authenticated: bool = True,
    encodings: frozenset[str] = ANY_ENCODING,
    wire_digests: Sequence[Digest] = (),
    data_digests: Sequence[Digest] = (),
) -> Body:
    """The whole body, at most `limit` bytes as sent and at most `limit` once decoded; else BodyRefused.

    `authenticated=False`: the sender is not known yet (its signature is checked once the body is hashed), so
    the body is read under the server's unauthenticated-body budget."""
    encoding = content_encoding(request, encodings)
    check_length(request, limit)
    guard = guard_of(request.app)
    deadline = asyncio.get_running_loop().time() + guard.limits.body_s
    compressed = encoding in COMPRESSED
    held: contextlib.AbstractAsyncContextManager[None] = contextlib.nullcontext()
    if not authenticated:
        declared = request.content_length
        wire = min(declared, limit) if declared is not None else limit
        held = guard.budget.hold(wire + (limit if compressed else 0), deadline)
    try:
        async with held:
            return await _read(request, limit, compressed, encoding, deadline, wire_digests, data_digests)
    except BodyRefused as exc:
        if exc.status == 503:
            guard.tally.note("busy", "made an unauthenticated body wait past its time: the body budget is full")
        raise


async def _read(
    request: web.Request,
    limit: int,
    compressed: bool,
    encoding: str,
    deadline: float,
    wire_digests: Sequence[Digest],
    data_digests: Sequence[Digest],
) -> Body:
    guard = guard_of(request.app)
    loop = asyncio.get_running_loop()
    inflater = Inflater(limit) if compressed else None
    pieces: list[bytes] = []
    total = 0
    while True:
        wait = min(guard.limits.body_idle_s, deadline - loop.time())
        try:
            async with asyncio.timeout(max(0.0, wait)):
                piece = await request.content.readany()
        except TimeoutError:
            guard.tally.note("slow_body", "gave up on a request body that came too slowly")
            raise BodyRefused(408, "the body did not arrive in time", {"Connection": "close"}) from None
        except (ConnectionError, HttpProcessingError):
            guard.tally.note("client_gone", "a client went away in the middle of its request body")
            raise BodyRefused(400, "the body was cut short: the client went away") from None
        if not piece:
            break
        total += len(piece)
        if total > limit:
            raise BodyRefused(413, f"the body is larger than {limit} bytes")
        for digest in wire_digests:
            digest.update(piece)
        if inflater is None:
            for digest in data_digests:
                digest.update(piece)
            pieces.append(piece)
            continue
        for out in inflater.feed(piece):
            for digest in data_digests:
                digest.update(out)
            pieces.append(out)
            await asyncio.sleep(0)  # one piece inflated: the loop's turn
    if inflater is not None:
        inflater.finish()
    return Body(pieces, encoding, total)
