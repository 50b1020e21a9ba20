"""What keeps the web server answering while strangers send it slow or big requests (docs/deploy.md, "Exposed to
the internet").

- Connections: at most `max_connections` open; the next is answered 503 and closed at once.
- Request heads: a connection must send a complete request line and headers within `head_s` of connecting (or
  of the first byte after an idle keep-alive); an idle keep-alive connection is closed after `idle_s`.
- Bodies: a body must arrive within `body_s` in all, with no gap longer than `body_idle_s` (bot/bodies.py: 408).
- Unauthenticated bodies (a signature that can only be checked once the body is hashed) are read under one
  shared byte budget, `unauthenticated_bytes`: a request reserves what it declares (or its route's limit) before
  its first byte is read and waits, within its `body_s`, until it fits (else 503 with Retry-After). The others'
  bytes wait in the kernel, not in sitrep.

Each kind of refusal is logged once when it first happens and then at most once a minute with how many there
were (`Tally`), and counted in sitrep_http_refused_total.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

import metrics
from bot.inflate import BodyRefused

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HttpLimits:
    head_s: float = 10.0
    idle_s: float = 60.0
    body_s: float = 60.0
    body_idle_s: float = 15.0
    max_connections: int = 256
    unauthenticated_bytes: int = 64 * 1024 * 1024
    log_every_s: float = 60.0


class Tally:
    """One INFO line per kind of refusal when it first happens, then at most one per `every` seconds with the
    count since the last line: a flood of refusals is a few lines, not one per connection."""

    def __init__(self, every: float) -> None:
        self.every = every
        self._counts: dict[tuple[str, str], int] = {}
        self._last: dict[tuple[str, str], float] = {}

    def note(self, kind: str, what: str) -> None:
        """`kind`: the metric's reason label; `what`: a fixed sentence (no values from the request)."""
        metrics.HTTP_REFUSED.labels(reason=kind).inc()
        key = (kind, what)
        self._counts[key] = self._counts.get(key, 0) + 1
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self.every:
            return
        count, self._counts[key] = self._counts[key], 0
        self._last[key] = now
        since = f" ({count} in the last {self.every:.0f} s)" if last is not None else ""
        log.info("web server: %s%s", what, since)


class ByteBudget:
    """Bytes that unauthenticated bodies may hold at once; `hold(n, deadline)` waits until n fit."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.free = total
        self.peak = 0  # the most held at once (tests, the bench)
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def hold(self, n: int, deadline: float) -> AsyncIterator[None]:
        n = min(n, self.total)
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: self.free >= n), max(0.0, deadline - _now()))
            except TimeoutError:
                raise BodyRefused(
                    503, "too many unauthenticated bodies are being read; retry", {"Retry-After": "5"}
                ) from None
            self.free -= n
            self.peak = max(self.peak, self.total - self.free)
        try:
            yield
        finally:
            async with self._changed:
                self.free += n
                self._changed.notify_all()


def _now() -> float:
    return asyncio.get_running_loop().time()


class Guard:
    """The limits, the byte budget and the tally of one web server (bot/web.py keeps it on the app)."""

    def __init__(self, limits: HttpLimits) -> None:
        self.limits = limits
        self.budget = ByteBudget(limits.unauthenticated_bytes)
        self.tally = Tally(limits.log_every_s)
        self.connections: dict[Any, _Connection] = {}  # transport -> its watch


GUARD = web.AppKey("http_guard", Guard)


def guard_of(app: web.Application) -> Guard:
    guard = app.get(GUARD)
    if guard is None:  # an app built without build_web_app (tests of one route): the defaults
        guard = app[GUARD] = Guard(HttpLimits())
    return guard


_BUSY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"


class _Refused(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if isinstance(transport, asyncio.WriteTransport):
            transport.write(_BUSY)
        transport.close()


class _Connection(asyncio.Protocol):
    """aiohttp's protocol for one connection, with a clock on how long a request head may take to arrive.

    aiohttp answers the request once its head is parsed; `request_started` / `request_done` (the middleware in
    bot/web.py) stop and restart the clock. Everything else is handed to aiohttp's protocol unchanged."""

    def __init__(self, inner: asyncio.Protocol, guard: Guard) -> None:
        self.inner = inner
        self.guard = guard
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.idle = False  # between requests, no byte of the next one yet
        self.busy = False  # a request is being handled

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.guard.connections[transport] = self
        self.inner.connection_made(transport)
        self._clock(self.guard.limits.head_s)

    def data_received(self, data: bytes) -> None:
        if self.idle and data:
            self.idle = False
            self._clock(self.guard.limits.head_s)
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop()
        self.guard.connections.pop(self.transport, None)
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def request_started(self) -> None:
        self.busy = True
        self._stop()

    def request_done(self) -> None:
        self.busy = False
        self.idle = True
        self._clock(self.guard.limits.idle_s)

    def _clock(self, seconds: float) -> None:
        self._stop()
        self.timer = asyncio.get_running_loop().call_later(seconds, self._expired)

    def _stop(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _expired(self) -> None:
        self.timer = None
        if self.busy or self.transport is None:
            return
        if not self.idle:
            head = self.guard.limits.head_s
            self.guard.tally.note("slow_head", f"closed a connection that sent no complete request head in {head:g} s")
        self.transport.close()


def protocol_factory(server: Any, guard: Guard) -> Any:
    """What asyncio's server calls per connection: aiohttp's protocol under the clock, or a 503 over the cap."""

    def make() -> asyncio.Protocol:
        if len(guard.connections) >= guard.limits.max_connections:
            cap = guard.limits.max_connections
            guard.tally.note("connections", f"refused a connection over the cap of {cap} open connections")
            return _Refused()
        return _Connection(server(), guard)

    return make


@web.middleware
async def request_clock(request: web.Request, handler: Any) -> web.StreamResponse:
    """Stops the head clock of the request's connection while it is handled (outermost middleware). A body
    refused for coming too slowly (408) is answered and its connection closed at once: aiohttp would otherwise
    go on reading (and dropping) the slow body for its lingering time."""
    watch = guard_of(request.app).connections.get(request.transport)
    if watch is not None:
        watch.request_started()
    try:
        response = await handler(request)
        if response.status == 408 and not response.prepared:
            await response.prepare(request)
            await response.write_eof()
            request.protocol.force_close()
        return response
    finally:
        if watch is not None:
            watch.request_done()


class GuardedSite(web.TCPSite):
    """web.TCPSite whose connections go through protocol_factory."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, guard: Guard) -> None:
        super().__init__(runner, host, port)
        self._guard = guard

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            protocol_factory(server, self._guard), self._host, self._port, backlog=self._backlog
        )
