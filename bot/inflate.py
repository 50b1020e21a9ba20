"""gzip and deflate bodies inflated piece by piece, bounded in size, members and work.

`Inflater.feed(piece)` takes the compressed bytes as they arrive and yields what they inflate to, at most PIECE
bytes at a time, so the caller can hand the event loop back between pieces (bot/bodies.py does): inflating never
holds the loop for longer than one PIECE of output or input. It refuses (BodyRefused):

- 413 once the output passes `limit` (a gzip bomb inflates at most `limit` bytes before it is refused);
- 400 at the MAX_MEMBERS+1st gzip member: RFC 1952 lets a file be any series of members, and each costs a new
  decompressor, so 1.26 M empty members (20 bytes each, 25 MB) were 1.26 M decompressors on the loop. Senders
  compress a body as one member; a handful is generous;
- 400 for data that is not gzip or zlib, or stops mid-member (`finish()`).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

PIECE = 64 * 1024
MAX_MEMBERS = 16
# gzip (RFC 1952) and deflate (RFC 1950, zlib): wbits 32 + 15 lets zlib tell them apart by their header.
_WBITS = 32 + zlib.MAX_WBITS


class BodyRefused(Exception):
    """The body is not taken: `status` (413 too large, 415 an encoding sitrep does not take, 400 corrupt, 401
    unauthenticated, 408 too slow, 503 too busy) and one line saying why."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class Inflater:
    def __init__(self, limit: int, max_members: int = MAX_MEMBERS) -> None:
        self.limit = limit
        self.max_members = max_members
        self.members = 0
        self.total = 0
        self._decoder: zlib._Decompress | None = None

    def feed(self, data: bytes) -> Iterator[bytes]:
        """What `data` (the next compressed bytes) inflates to, PIECE bytes at most at a time."""
        view = memoryview(data)
        while True:
            decoder = self._decoder
            if decoder is None or decoder.eof:
                if not view:
                    return
                decoder = self._new_member()
            chunk = view[:PIECE]
            try:
                out = decoder.decompress(chunk, PIECE)
            except zlib.error:
                raise BodyRefused(400, "the body is not valid gzip or deflate data") from None
            consumed = len(chunk) - len(decoder.unconsumed_tail) - len(decoder.unused_data)
            view = view[consumed:]
            self.total += len(out)
            if self.total > self.limit:
                raise BodyRefused(413, f"the body inflates to more than {self.limit} bytes")
            if out:
                yield out
            if not decoder.eof and not view and len(out) < PIECE:
                return  # everything taken and nothing held back: the rest needs more input

    def finish(self) -> None:
        """The end of the body: refused when it stops inside a member."""
        if self._decoder is not None and not self._decoder.eof:
            raise BodyRefused(400, "the compressed body is cut short")

    def _new_member(self) -> zlib._Decompress:
        self.members += 1
        if self.members > self.max_members:
            raise BodyRefused(400, f"the body has more than {self.max_members} gzip members")
        self._decoder = zlib.decompressobj(_WBITS)
        return self._decoder


def inflate(compressed: bytes, limit: int, max_members: int = MAX_MEMBERS) -> bytes:
    """A whole gzip or zlib body inflated at once (the same bounds as Inflater), for callers off the loop."""
    inflater = Inflater(limit, max_members)
    out = list(inflater.feed(compressed))
    inflater.finish()
    return b"".join(out)
