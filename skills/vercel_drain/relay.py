"""Queue, batch and push: drain lines in, Loki push JSON out, nothing acknowledged that is not queued.

The receiver offers a request's lines all at once (`offer`): they fit in the bounded queue, or none is taken and
the receiver answers 503 so Vercel retries. A batcher cuts batches at `batch_bytes` or `batch_wait` seconds after
their first line; one pusher sends them in order with basic auth, retrying 429/5xx and connection errors with
backoff (Retry-After honoured). A batch Loki keeps refusing goes to the spill table; while the table holds
anything, new batches queue behind it there, and it is drained oldest first when Loki answers again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass

import httpx

from skills.base import make_client, retry_after_seconds
from skills.vercel_drain.config import DrainConfig
from skills.vercel_drain.deploys import DeployRecorder
from skills.vercel_drain.refusal import read_refusal
from skills.vercel_drain.status import RelayStatus
from skills.vercel_drain.translate import Line, push_body
from storage.changes import ChangeStore
from storage.drain import DrainStore

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
JSON = {"Content-Type": "application/json"}
SPILL_STATUSES = RETRY_STATUSES | {401, 403, 404}  # keeps failing until Loki or the credentials are fixed


@dataclass(frozen=True)
class RelayLimits:
    queue_lines: int = 100_000
    batch_bytes: int = 1_000_000
    batch_wait: float = 1.0
    push_attempts: int = 4
    backoff: float = 0.25
    max_backoff: float = 30.0
    spill_bytes: int = 256 * 1024 * 1024
    config_ttl: float = 2.0
    status_every: float = 5.0


@dataclass
class Batch:
    lines: int
    body: bytes
    received: float  # monotonic receipt time of its oldest line


@dataclass(frozen=True)
class PushOutcome:
    ok: bool
    status: int | None
    message: str = ""  # bounded, for the status
    text: str = ""  # Loki's whole answer, read for what a 400 refused

    @property
    def spill(self) -> bool:
        return not self.ok and (self.status is None or self.status in SPILL_STATUSES)


class Relay:
    def __init__(
        self,
        loader: Callable[[], Awaitable[DrainConfig]],
        store: DrainStore,
        limits: RelayLimits | None = None,
        *,
        changes: ChangeStore,
        on_push: Callable[[Batch, float], None] | None = None,
    ) -> None:
        self.loader = loader
        self.store = store
        self.deploys = DeployRecorder(changes)  # new deploymentIds become changes (deploys.py)
        self.limits = limits or RelayLimits()
        self.status = RelayStatus()
        self.on_push = on_push  # (batch, monotonic push time): the benchmark's latency probe
        self.queue: asyncio.Queue[Line] = asyncio.Queue(self.limits.queue_lines)
        self._arrived = asyncio.Event()
        self._batches: asyncio.Queue[Batch] = asyncio.Queue(2)
        self._inflight: Batch | None = None
        self._config: DrainConfig | None = None
        self._config_at = 0.0
        self._client: httpx.AsyncClient | None = None
        self._client_key: tuple[str | None, str | None, str | None] = (None, None, None)
        self._tasks: list[asyncio.Task[None]] = []
        self._spilled = 0  # batches in the spill table
        self._retry_at = 0.0
        self._spill_backoff = self.limits.backoff
        self._saved_at = 0.0
        self._carry: Line | None = None
        self._changed = asyncio.Condition()
        self._db = asyncio.Lock()  # held around every database write, so stop() never cancels one midway
        self._collecting: list[Line] = []
        self._pending: Batch | None = None

    # -- configuration ------------------------------------------------------------------------------------

    async def config(self) -> DrainConfig:
        """The current settings, re-read every `config_ttl` seconds and after `invalidate()`."""
        if self._config is None or time.monotonic() - self._config_at > self.limits.config_ttl:
            self._config, self._config_at = await self.loader(), time.monotonic()
        return self._config

    def invalidate(self) -> None:
        self._config = None

    # -- receiving ----------------------------------------------------------------------------------------

    def offer(self, lines: list[Line]) -> bool:
        """Queue every line, or none when they do not all fit (the receiver then answers 503)."""
        if self.queue.maxsize - self.queue.qsize() < len(lines):
            self.status.refused_requests += 1
            return False
        for line in lines:
            self.queue.put_nowait(line)
        self.status.accepted_lines += len(lines)
        if lines:
            self._arrived.set()
        return True

    async def note_request(self, *, signed: bool, malformed: int = 0) -> None:
        now = time.time()
        if signed:
            self.status.requests += 1
            self.status.last_request_at = now
            self.status.malformed_lines += malformed
        else:
            self.status.bad_signatures += 1
            self.status.last_bad_signature_at = now
        await self._save_status()

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def start(self) -> None:
        self.status = RelayStatus.from_document(await self.store.load_status())
        self._spilled, backlog, _ = await self.store.backlog()
        self.status.backlog_lines = backlog
        self._tasks = [asyncio.create_task(self._batcher()), asyncio.create_task(self._pusher())]

    async def stop(self) -> None:
        """Stop at once: what is queued or not yet pushed is spilled, to be pushed at the next start."""
        async with self._db:
            for task in self._tasks:
                task.cancel()
            for task in self._tasks:
                with suppress(asyncio.CancelledError):
                    await task
        self._tasks = []
        leftovers: list[Batch] = [self._inflight] if self._inflight else []
        while not self._batches.empty():
            leftovers.append(self._batches.get_nowait())
        if self._pending is not None:
            leftovers.append(self._pending)
        self._inflight = self._pending = None
        lines = self._collecting + ([self._carry] if self._carry else [])
        self._collecting, self._carry = [], None
        while not self.queue.empty():
            lines.append(self.queue.get_nowait())
        while lines:
            batch, lines = self._cut(lines)
            leftovers.append(batch)
        for batch in leftovers:
            await self._spill(batch)
        await self._save_status(force=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- batching -----------------------------------------------------------------------------------------

    def _cut(self, lines: list[Line]) -> tuple[Batch, list[Line]]:
        size, n = 0, 0
        for line in lines:
            if n and size + line.size > self.limits.batch_bytes:
                break
            size += line.size
            n += 1
        taken = lines[:n]
        return Batch(n, push_body(taken), min(x.received for x in taken)), lines[n:]

    async def _next_line(self, deadline: float | None) -> Line | None:
        if self._carry is not None:
            line, self._carry = self._carry, None
            return line
        while self.queue.empty():
            self._arrived.clear()
            if deadline is None:
                await self._arrived.wait()
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            with suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)
        return self.queue.get_nowait()

    async def _batcher(self) -> None:
        """Cut batches; what it holds (`_collecting`, `_pending`) is spilled if the relay stops meanwhile."""
        while True:
            first = await self._next_line(None)
            assert first is not None
            self._collecting, size = [first], first.size
            deadline = first.received + self.limits.batch_wait
            while True:
                line = await self._next_line(deadline)
                if line is None:
                    break
                if size + line.size > self.limits.batch_bytes:
                    self._carry = line
                    break
                self._collecting.append(line)
                size += line.size
            lines, self._collecting = self._collecting, []
            self._pending = Batch(len(lines), push_body(lines), first.received)
            await self._batches.put(self._pending)
            self._pending = None

    # -- pushing ------------------------------------------------------------------------------------------

    async def _pusher(self) -> None:
        while True:
            if self._spilled:
                timeout = max(0.0, self._retry_at - time.monotonic())
                try:
                    self._inflight = await asyncio.wait_for(self._batches.get(), timeout)
                except TimeoutError:
                    self._inflight = None
                if time.monotonic() >= self._retry_at:
                    await self._drain_spill()
            else:
                self._inflight = await self._batches.get()
            batch = self._inflight
            if batch is None:
                continue
            if self._spilled:
                await self._spill(batch)  # behind the older lines waiting there
            else:
                outcome = await self._push(batch.body, self.limits.push_attempts)
                self._account(batch.lines, batch.body, outcome)
                if outcome.ok and self.on_push:
                    self.on_push(batch, time.monotonic())
                if outcome.spill:
                    await self._spill(batch)
                    self._schedule_retry(failed=True)
            self._inflight = None
            await self._save_status()
            await self._notify()

    def _account(self, lines: int, body: bytes, outcome: PushOutcome) -> None:
        if outcome.ok:
            self.status.pushed(lines)
        elif outcome.status == 400:  # Loki took the valid lines: count what it says it refused, never push again
            self.status.refused(read_refusal(outcome.text, body, lines))
            log.warning("Loki answered 400: %s", self.status.last_refusal)
        else:
            self.status.failed(outcome.status, outcome.message)
            if not outcome.spill:
                self.status.rejected_lines += lines
                log.warning("Loki refused %d lines (%s): %s", lines, outcome.status, outcome.message)

    async def _drain_spill(self) -> None:
        """Push spilled batches oldest first; stop at the first failure and try again after a backoff."""
        while self._spilled:
            head = await self.store.oldest()
            if head is None:
                self._spilled = 0
                break
            outcome = await self._push(head.body, 1)
            self._account(head.lines, head.body, outcome)
            if outcome.spill:
                self._schedule_retry(failed=True)
                return
            async with self._db:
                await self.store.remove(head.id)
            self._spilled -= 1
            self.status.backlog_lines = max(0, self.status.backlog_lines - head.lines)
            await self._notify()
        self._schedule_retry(failed=False)

    def _schedule_retry(self, *, failed: bool) -> None:
        if failed:
            self._retry_at = time.monotonic() + self._spill_backoff
            self._spill_backoff = min(self._spill_backoff * 2, self.limits.max_backoff)
        else:
            self._spill_backoff = self.limits.backoff

    async def _spill(self, batch: Batch) -> None:
        async with self._db:
            dropped_batches, dropped_lines = await self.store.spill(
                batch.body, batch.lines, max_bytes=self.limits.spill_bytes
            )
        self._spilled += 1 - dropped_batches
        self.status.spilled_lines += batch.lines
        self.status.backlog_lines += batch.lines - dropped_lines
        if dropped_lines:
            self.status.dropped_lines += dropped_lines
            log.warning("the drain spill table is full: dropped the oldest %d lines", dropped_lines)

    async def _http(self, config: DrainConfig) -> httpx.AsyncClient:
        key = (config.endpoint, config.push_user.value, config.push_token.value)
        if self._client is None or key != self._client_key:
            if self._client is not None:
                await self._client.aclose()
            auth = (config.push_user.value or "", config.push_token.value or "")
            self._client = make_client("", auth=auth, timeout=httpx.Timeout(10.0, connect=5.0))
            self._client_key = key
        return self._client

    async def _push(self, body: bytes, attempts: int) -> PushOutcome:
        config = await self.config()
        if not config.can_push:
            missing = ", ".join(config.missing()[:3])
            return PushOutcome(False, None, f"nowhere to push: {missing} not set")
        client = await self._http(config)
        outcome = PushOutcome(False, None)
        for attempt in range(attempts):
            response: httpx.Response | None = None
            try:
                response = await client.post(config.endpoint or "", content=body, headers=JSON)
            except httpx.HTTPError as exc:
                outcome = PushOutcome(False, None, f"no connection to {config.endpoint} ({type(exc).__name__})")
            else:
                if response.is_success:
                    return PushOutcome(True, response.status_code)
                text = response.text
                outcome = PushOutcome(False, response.status_code, text.strip()[:300], text)
                if response.status_code not in RETRY_STATUSES:
                    return outcome
            if attempt + 1 < attempts:
                default = self.limits.backoff * 2**attempt
                wait = retry_after_seconds(response, default) if response is not None else default
                await asyncio.sleep(min(wait, self.limits.max_backoff))
        return outcome

    async def wait_until(self, predicate: Callable[[RelayStatus], bool], timeout: float = 10.0) -> None:
        """Until `predicate(status)` holds; re-checked after every push, refusal and spill."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: predicate(self.status)), timeout)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _save_status(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._saved_at >= self.limits.status_every:
            self._saved_at = now
            async with self._db:
                await self.store.save_status(self.status.to_document())

    async def flush_status(self) -> None:
        await self._save_status(force=True)
