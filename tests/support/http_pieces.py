"""HTTP/1.1 requests written to a real socket in small pieces, the way a body crosses the internet.

Each piece is written and drained on its own (TCP_NODELAY, so the kernel does not merge them), with a turn of the
event loop between pieces, so a server on the same loop reads the body as it arrives rather than whole. Used by
tests/bot/test_request_bodies.py, tests/bot/test_drain_gzip.py and bench/request_bodies.py.
"""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    pieces: int  # how many pieces the request body was written in

    def json(self) -> Any:
        return json.loads(self.body)


async def send_in_pieces(
    port: int,
    path: str,
    body: bytes,
    headers: dict[str, str],
    *,
    piece: int = 1024,
    method: str = "POST",
    chunked: bool = False,
) -> Answer:
    """Send `body` `piece` bytes at a time (with Content-Length, or Transfer-Encoding: chunked without one) and
    read the whole answer (Connection: close)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    framing = {"Transfer-Encoding": "chunked"} if chunked else {"Content-Length": str(len(body))}
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in {**headers, **framing}.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    written = 0
    try:
        await writer.drain()
        for start in range(0, len(body), piece):
            part = body[start : start + piece]
            writer.write(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
            await writer.drain()
            written += 1
            await asyncio.sleep(0)  # a turn of the loop: the server takes this piece before the next is written
        if chunked:
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except (ConnectionResetError, BrokenPipeError):
        pass  # the server answered early (413) and closed: its answer is still there to read
    raw = await reader.read()
    writer.close()
    try:
        await writer.wait_closed()
    except (ConnectionResetError, BrokenPipeError):
        pass
    head, _, content = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    answer_headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        answer_headers[name.strip().lower()] = value.strip()
    return Answer(int(status_line.split()[1]), answer_headers, content, written)
