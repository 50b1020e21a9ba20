"""Hostile HTTP clients on loopback, bounded in count and time: the attacks of tests/bot/test_hostile_web.py and
bench/hostile_web.py.

    empty_gzip_members(n)                       n empty gzip members (20 bytes each), one body
    await healthz_latencies(port, stop)         GET /healthz every 20 ms until `stop` is set: seconds each
    await in_thread(lambda: coro)               a client on its own event loop in a worker thread
    await post_raw(port, path, headers, body)   the answer's status, the body written in pieces (or never)
    await trickle(port, data, every)            a request written one byte every `every` seconds; the time the
                                                server took to close it
    RssPeak()                                   this process's peak resident memory while it runs (Linux)
    async with exposed(tmp, limits) as site:    sitrep's web server with every route on (GitHub, the drain,
                                                the alert webhooks), against the fakes
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
import zlib
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from bot.background import start_relay
from bot.http_guard import GUARD, Guard, HttpLimits
from bot.runtime import Runtime
from bot.web import bound_port, start_web
from skills.vercel_drain import Relay, RelayLimits
from tests.fakes.loki import FakeLoki
from tests.support.drain_support import DRAIN_SECRET, DRAIN_VERIFY
from tests.support.github_world import World, github_world

ALERTS_TOKEN = "alerts-token-hostile-0123456789"
T = TypeVar("T")


@dataclass
class Exposed:
    port: int
    app: web.Application
    world: World
    relay: Relay

    @property
    def guard(self) -> Guard:
        return self.app[GUARD]


@contextlib.asynccontextmanager
async def exposed(tmp: Path, limits: HttpLimits | None = None) -> AsyncIterator[Exposed]:
    """The web server as the internet would see it: GitHub's routes, the drain and the alert webhooks on."""
    async with (
        FakeLoki() as loki,
        github_world(
            tmp,
            SITREP_PUBLIC_URL="https://sitrep.example.com",
            SITREP_HTTP_PORT="0",
            SITREP_ALERTS_TOKEN=ALERTS_TOKEN,
            LOKI_PUSH_URL=loki.url,
            LOKI_PUSH_USER=loki.user,
            LOKI_PUSH_TOKEN=loki.token,
            VERCEL_DRAIN_SECRET=DRAIN_SECRET,
            VERCEL_DRAIN_VERIFY=DRAIN_VERIFY,
        ) as w,
    ):
        w.services = replace(w.services, settings=w.services.settings.model_copy(update={"http_port": 0}))
        relay = await start_relay(w.services, RelayLimits(batch_wait=0.05))
        runner = await start_web(Runtime(w.services, drain=relay), w.notify, limits)
        try:
            port = bound_port(runner)
            assert port is not None
            yield Exposed(port, runner.app, w, relay)
        finally:
            await runner.cleanup()
            await relay.stop()


def gzip_member(data: bytes = b"") -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def empty_gzip_members(n: int) -> bytes:
    """A gzip file of n empty members (RFC 1952 lets a file be any series of members): 20 bytes each."""
    return gzip_member() * n


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _status(reader: asyncio.StreamReader) -> int:
    line = await reader.readline()
    parts = line.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


async def post_raw(
    port: int,
    path: str,
    headers: dict[str, str],
    body: bytes | None,
    *,
    piece: int = 64 * 1024,
    length: int | None = None,
) -> int:
    """POST with Content-Length `length` (default len(body)); `body` None sends none and waits for the answer.
    The status line's code; 0 when the server closed without answering."""
    size = length if length is not None else len(body or b"")
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request_head("POST", path, {**headers, "Content-Length": str(size)}))
        view = memoryview(body or b"")
        with contextlib.suppress(ConnectionError):
            for start in range(0, len(view), piece):
                writer.write(view[start : start + piece])
                await writer.drain()
        with contextlib.suppress(ConnectionError):
            return await _status(reader)
        return 0
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def healthz_latencies(port: int, stop: threading.Event, every: float = 0.02) -> list[float]:
    """GET /healthz on a new connection every `every` seconds, not waiting for the previous answer (so a stalled
    server shows as every answer it held up, not as one slow answer), until `stop` is set: each answer's seconds.
    Run it on an event loop of its own (`in_thread`), so the server's stalls cannot delay the asking."""

    async def one() -> float:
        started = time.perf_counter()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request_head("GET", "/healthz", {}))
        await reader.read()
        writer.close()
        return time.perf_counter() - started

    asked: list[asyncio.Future[float]] = []
    while not stop.is_set():
        asked.append(asyncio.ensure_future(one()))
        await asyncio.sleep(every)  # the asking rate: a clock, not a wait for an event
    return list(await asyncio.gather(*asked))


async def in_thread(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run `work()` on a new event loop in a worker thread: a client the server's event loop cannot hold up."""
    return await asyncio.to_thread(asyncio.run, work())


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0


async def trickle(port: int, data: bytes, every: float, *, give_up: float, head: bytes = b"") -> float | None:
    """Write `head` at once, then `data` one byte every `every` seconds on one connection, stopping when the
    server closes it: the seconds it stayed open, or None when it was still open after `give_up` seconds."""
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    writer.write(head)

    async def closed() -> None:
        while await reader.read(4096):
            pass

    watch = asyncio.ensure_future(closed())
    try:
        for byte in data:
            if watch.done() or time.monotonic() - started > give_up:
                break
            with contextlib.suppress(ConnectionError):
                writer.write(bytes([byte]))
                await writer.drain()
            await asyncio.wait([watch], timeout=every)  # the next byte, or the server closing the connection
        remaining = give_up - (time.monotonic() - started)
        if not watch.done() and remaining > 0:
            await asyncio.wait([watch], timeout=remaining)
        return time.monotonic() - started if watch.done() else None
    finally:
        watch.cancel()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def rss_bytes() -> int:
    """This process's resident set size (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class RssPeak:
    """async with RssPeak() as peak: ...; peak.growth is the highest RSS seen minus the RSS at entry."""

    def __init__(self, every: float = 0.01) -> None:
        self.every = every
        self.start = self.peak = 0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> RssPeak:
        self.start = self.peak = rss_bytes()
        self._task = asyncio.ensure_future(self._sample())
        return self

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, rss_bytes())
            await asyncio.sleep(self.every)  # a sampling period: there is no event for "memory grew"

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
        self.peak = max(self.peak, rss_bytes())

    @property
    def growth(self) -> int:
        return self.peak - self.start
