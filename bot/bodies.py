"""Request bodies read whole and bounded, for every route that takes one (GitHub's webhook, Vercel's drain, the
admin API).

A body crosses the internet in pieces: `request.content.read(n)` returns only what has arrived so far, so a 30 KB
webhook read that way is hashed as its first 16 KB and refused. `read_body` reads to the end, and stops (413) as
soon as more than `limit` bytes have come, without keeping them.

The web server runs with aiohttp's automatic decompression off (bot/web.py), so the bytes a route sees are the
bytes on the wire: a sender that signs what it sends (compressed or not) can be checked. `Body.data` is the body
with its Content-Encoding (gzip or deflate) removed, inflated piece by piece with `max_length`, so a small
compressed body that inflates to gigabytes (a gzip bomb) is refused having inflated at most `limit` bytes.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from aiohttp import web

PIECE = 64 * 1024
# gzip (RFC 1952) and deflate (RFC 1950, zlib): wbits 32 + 15 lets zlib tell them apart by their header.
COMPRESSED = frozenset({"gzip", "x-gzip", "deflate"})
IDENTITY = frozenset({"", "identity"})


class BodyRefused(Exception):
    """The body is not read: `status` (413 too large, 415 an encoding sitrep cannot decode, 400 corrupt)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Body:
    wire: bytes  # as sent, Content-Encoding and all
    data: bytes  # with the Content-Encoding removed (the same bytes when there is none)
    encoding: str  # the Content-Encoding, lower case ("" when none)

    @property
    def compressed(self) -> bool:
        return self.encoding in COMPRESSED


async def read_body(request: web.Request, limit: int) -> Body:
    """The whole body, at most `limit` bytes as sent and at most `limit` once decoded; else BodyRefused."""
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in IDENTITY and encoding not in COMPRESSED:
        raise BodyRefused(415, f"Content-Encoding {encoding!r} is not supported (gzip, deflate or none)")
    wire = await read_wire(request, limit)
    data = inflate(wire, limit) if encoding in COMPRESSED else wire
    return Body(wire, data, encoding)


async def read_wire(request: web.Request, limit: int) -> bytes:
    """Every byte of the body as it arrives, until its end; BodyRefused(413) once more than `limit` came."""
    if (request.content_length or 0) > limit:
        raise BodyRefused(413, f"the body is larger than {limit} bytes")
    pieces: list[bytes] = []
    total = 0
    while piece := await request.content.readany():
        total += len(piece)
        if total > limit:
            raise BodyRefused(413, f"the body is larger than {limit} bytes")
        pieces.append(piece)
    return b"".join(pieces)


def inflate(compressed: bytes, limit: int) -> bytes:
    """A gzip or zlib stream (concatenated gzip members too) decoded, never holding more than `limit` bytes of it
    (plus one PIECE): BodyRefused(413) past the limit, BodyRefused(400) when it is not valid.

    Input goes in PIECE-sized slices, so zlib's copies of what it has not consumed stay small too."""
    view = memoryview(compressed)
    out: list[bytes] = []
    total = offset = 0
    while offset < len(view):
        decoder = zlib.decompressobj(32 + zlib.MAX_WBITS)  # one gzip member (RFC 1952: a file is a series)
        try:
            while not decoder.eof:
                chunk = view[offset : offset + PIECE]
                piece = decoder.decompress(chunk, min(PIECE, limit - total + 1))
                offset += len(chunk) - len(decoder.unconsumed_tail) - len(decoder.unused_data)
                total += len(piece)
                if total > limit:
                    raise BodyRefused(413, f"the body inflates to more than {limit} bytes")
                out.append(piece)
                if not piece and not chunk:
                    break  # all input taken and nothing more comes out: cut short (checked below)
        except zlib.error:
            raise BodyRefused(400, "the body is not valid gzip or deflate data") from None
        if not decoder.eof:
            raise BodyRefused(400, "the compressed body is cut short")
    return b"".join(out)
