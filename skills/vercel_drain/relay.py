"""Store, queue, batch and push: drain lines in, Loki push JSON out, nothing acknowledged that is not stored.

The receiver hands over a request's lines all at once (`accept`): they must fit in the bounded queue (else none is
taken and the receiver answers 503 so Vercel retries), and the request is written to the inbox table before the
answer (skills/vercel_drain/inbox.py; requests arriving together share one transaction), so a 200 survives a
crash. A batcher cuts batches at `batch_bytes` or `batch_wait` seconds after their first line; one pusher sends
them in order with basic auth, retrying 429/5xx and connection errors with backoff (Retry-After honoured). A
batch Loki keeps refusing goes to the spill table; while the table holds anything, new batches queue behind it
there, and it is drained oldest first when Loki answers again. A request leaves the inbox once each of its lines
is pushed, refused by Loki or spilled. Every `inbox_beat` seconds the relay renews its hold on its inbox rows and
takes those of a relay that is gone (killed, or stopped: a stop releases them). After a crash a line can reach
Loki twice: at most the batch being pushed, and the rest of a request only partly pushed or spilled.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field

from skills.vercel_drain.config import DrainConfig
from skills.vercel_drain.deploys import DeployRecorder
from skills.vercel_drain.inbox import Inbox, rows_of, tag
from skills.vercel_drain.push import LokiPush, PushOutcome
from skills.vercel_drain.refusal import read_refusal
from skills.vercel_drain.status import RelayStatus
from skills.vercel_drain.translate import Line, push_body
from storage.changes import ChangeStore
from storage.drain import DrainStore
from supervisor import Supervisor

log = logging.getLogger(__name__)


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
    inbox_beat: float = 10.0  # renew the hold on this relay's inbox rows, take those of a relay that is gone


@dataclass
class Batch:
    lines: int
    body: bytes
    received: float  # monotonic receipt time of its oldest line
    rows: dict[int, int] = field(default_factory=dict)  # inbox row -> lines of it in this batch
    outcome: PushOutcome | None = None  # once pushed: a delivery tried again never pushes twice
    accounted: bool = False  # counted against its inbox rows


class Relay:
    def __init__(
        self,
        loader: Callable[[], Awaitable[DrainConfig]],
        store: DrainStore,
        limits: RelayLimits | None = None,
        *,
        changes: ChangeStore,
        on_push: Callable[[Batch, float], None] | None = None,
        supervisor: Supervisor | None = None,
    ) -> None:
        self.loader = loader
        self.supervisor = supervisor or Supervisor()  # runs the batcher, the pusher and the inbox keeper
        self.store = store
        self.deploys = DeployRecorder(changes)  # new deploymentIds become changes (deploys.py)
        self.limits = limits or RelayLimits()
        self.status = RelayStatus()
        self.inbox = Inbox(store)
        self.on_push = on_push  # (batch, monotonic push time): the benchmark's latency probe
        self.queue: asyncio.Queue[Line] = asyncio.Queue(self.limits.queue_lines)
        self._arrived = asyncio.Event()
        self._batches: asyncio.Queue[Batch] = asyncio.Queue(2)
        self._inflight: Batch | None = None
        self._config: DrainConfig | None = None
        self._config_at = 0.0
        self._loki = LokiPush(self.limits.backoff, self.limits.max_backoff)
        self._tasks: list[asyncio.Task[None]] = []
        self._spilled = 0  # batches in the spill table
        self._retry_at = 0.0
        self._spill_backoff = self.limits.backoff
        self._saved_at = 0.0
        self._carry: Line | None = None
        self._changed = asyncio.Condition()
        self._db = asyncio.Lock()  # held around every database write, so stop() never cancels one midway
        self._collecting: list[Line] = []
        self._reserved = 0  # lines of requests being stored, counted against the queue's room

    # -- configuration ------------------------------------------------------------------------------------

    async def config(self) -> DrainConfig:
        """The current settings, re-read every `config_ttl` seconds and after `invalidate()`."""
        if self._config is None or time.monotonic() - self._config_at > self.limits.config_ttl:
            self._config, self._config_at = await self.loader(), time.monotonic()
        return self._config

    def invalidate(self) -> None:
        self._config = None

    # -- receiving ----------------------------------------------------------------------------------------

    @property
    def room(self) -> int:
        return self.queue.maxsize - self.queue.qsize() - self._reserved

    async def accept(self, lines: list[Line], body: bytes) -> bool:
        """Store the request (`body` as received) and queue every line: True once both are done (the receiver
        answers 200); False, with nothing taken, when they do not all fit in the queue (503). Raises what the
        database raised when the request could not be stored (503 too: Vercel sends it again)."""
        if self.room < len(lines):
            self.status.refused_requests += 1
            return False
        if lines:
            self._reserved += len(lines)
            try:
                row = await self.inbox.write(body, len(lines))
            finally:
                self._reserved -= len(lines)
            tag(lines, row)
            self._enqueue(lines)
        self.status.accepted_lines += len(lines)
        return True

    def _enqueue(self, lines: list[Line]) -> None:
        for line in lines:
            self.queue.put_nowait(line)
        if lines:
            self._arrived.set()

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
        """Read the status and the spill backlog, take what a stopped or dead relay left in the inbox, and run."""
        self.status = RelayStatus.from_document(await self.store.load_status())
        self._spilled, backlog, _ = await self.store.backlog()
        self.status.backlog_lines = backlog
        await self.store.release()  # rows under this store's name are from before this start: nothing holds them
        await self._adopt()
        spawn = self.supervisor.spawn
        self._tasks = [
            spawn(self._batcher(), "drain relay: batching", group="drain"),
            spawn(self._pusher(), "drain relay: pushing to Loki", group="drain"),
            spawn(self._keeper(), "drain relay: keeping the inbox", group="drain"),
        ]

    async def stop(self) -> None:
        """Stop at once: what is not yet pushed stays in the inbox, released, for the next relay to push."""
        async with self._db:
            for task in self._tasks:
                task.cancel()
            for task in self._tasks:
                with suppress(asyncio.CancelledError):
                    await task
        self._tasks = []
        self._inflight, self._carry, self._collecting = None, None, []
        self.queue, self._batches = asyncio.Queue(self.limits.queue_lines), asyncio.Queue(2)
        try:
            await self.store.settle(self.inbox.done())
            self.inbox.deleted(self.inbox.done())
            await self.store.release()
        except Exception as exc:  # its rows are taken once their lease runs out instead
            log.warning("the drain inbox was not released (%s); another relay takes it after the lease", exc)
        await self._save_status(force=True)
        await self._loki.aclose()

    async def _keeper(self) -> None:
        """Renew the hold on this relay's inbox rows; take the rows of relays that are gone."""
        while True:
            await asyncio.sleep(self.limits.inbox_beat)
            try:
                await self.store.beat()
                await self.store.release_rows(self.inbox.stranded())
                await self._adopt()
            except Exception as exc:  # the database is away: next time
                log.warning("drain inbox: %s", exc)

    async def _adopt(self) -> None:
        adopted = 0
        while self.room > 0 and (row := await self.store.take_orphan(self.room)) is not None:
            lines = self.inbox.adopt(row)
            self._enqueue(lines)
            adopted += len(lines)
        if adopted:
            self.status.adopted_lines += adopted
            log.info("drain: took %d acknowledged lines a stopped or dead relay had not pushed", adopted)

    # -- batching -----------------------------------------------------------------------------------------

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
        """Cut batches; what it holds when the relay stops stays in the inbox."""
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
            await self._batches.put(Batch(len(lines), push_body(lines), first.received, rows_of(lines)))

    # -- pushing ------------------------------------------------------------------------------------------

    async def _pusher(self) -> None:
        while True:
            try:
                await self._push_next()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database did not take a write: the batch in hand is delivered again
                log.warning("drain relay: %s; trying again in %.2f s", exc, self._spill_backoff)
                await asyncio.sleep(self._spill_backoff)

    async def _push_next(self) -> None:
        if self._inflight is None:
            if self._spilled:
                timeout = max(0.0, self._retry_at - time.monotonic())
                with suppress(TimeoutError):
                    self._inflight = await asyncio.wait_for(self._batches.get(), timeout)
                if time.monotonic() >= self._retry_at:
                    await self._drain_spill()
            else:
                self._inflight = await self._batches.get()
        batch = self._inflight
        if batch is None:
            return
        await self._deliver(batch)
        self._inflight = None
        await self._save_status()
        await self._notify()

    async def _deliver(self, batch: Batch) -> None:
        """Push the batch (unless it was pushed already), then settle its inbox rows, or spill it."""
        if batch.outcome is None:
            if self._spilled:
                await self._spill(batch)  # behind the older lines waiting there
                return
            batch.outcome = await self._push(batch.body, self.limits.push_attempts)
            self._account(batch.lines, batch.body, batch.outcome)
            if batch.outcome.ok and self.on_push:
                self.on_push(batch, time.monotonic())
            if batch.outcome.spill:
                self._schedule_retry(failed=True)
        if batch.outcome.spill:
            await self._spill(batch)
        else:
            await self._settle(batch)

    def _count_rows(self, batch: Batch) -> None:
        if not batch.accounted:
            self.inbox.account(batch.rows)
            batch.accounted = True

    async def _settle(self, batch: Batch) -> None:
        """Delete the inbox rows this batch finished; a failed delete is tried again after the next batch."""
        self._count_rows(batch)
        rows = self.inbox.done()
        if not rows:
            return
        try:
            async with self._db:
                await self.store.settle(rows)
        except Exception as exc:  # tried again after the next batch
            log.warning("drain inbox: %d pushed requests not yet deleted (%s)", len(rows), exc)
        else:
            self.inbox.deleted(rows)

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
        """Into the spill table, with the inbox rows it finishes deleted in the same transaction."""
        self._count_rows(batch)
        rows = self.inbox.done()
        async with self._db:
            dropped_batches, dropped_lines = await self.store.spill(
                batch.body, batch.lines, max_bytes=self.limits.spill_bytes, settled=rows
            )
        self.inbox.deleted(rows)
        self._spilled += 1 - dropped_batches
        self.status.spilled_lines += batch.lines
        self.status.backlog_lines += batch.lines - dropped_lines
        if dropped_lines:
            self.status.dropped_lines += dropped_lines
            log.warning("the drain spill table is full: dropped the oldest %d lines", dropped_lines)

    async def _push(self, body: bytes, attempts: int) -> PushOutcome:
        return await self._loki.push(await self.config(), body, attempts)

    async def wait_until(self, predicate: Callable[[RelayStatus], bool], timeout: float = 10.0) -> None:
        """Until `predicate(status)` holds; re-checked after every push, refusal and spill."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: predicate(self.status)), timeout)

    async def wait_settled(self, timeout: float = 10.0) -> None:
        """Until every line this relay holds is settled and its inbox rows deleted (tests, benchmarks)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.inbox.idle), timeout)

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
