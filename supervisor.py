"""The one owner of every task that outlives the call that started it.

The composition root (bot/root.py) makes one Supervisor for the app's lifetime and hands it to every part that
works in the background: the scheduler, the drain relay, the poller, the Slack poster, the alert desk, the work a
web route does after its 202, the refreshes of the discovery caches, the answers under way. Work that fans out
inside one call (a report's sections, an alert's first round, a pull request's discovery beside its reads) starts
its tasks in a `Scope`, which the call owns: none outlives it. Nothing else calls `create_task`.

    task = supervisor.spawn(work(), "refreshing data sources", group="discovery")
    await supervisor.settle("discovery")       # wait for what is under way in one group (tests, benchmarks, drains)
    await supervisor.cancel("poller")          # one part stopping: its group's tasks, newest first
    await supervisor.stop()                    # at shutdown: cancel what is left, newest first, and wait for it

    async with Scope() as scope:                # inside one call
        section = scope.start(build(), "the Grafana section")
        ...                                     # leaving the block cancels what is still running and waits for it

A task that fails is logged once, with what it was doing; a task that is cancelled is not an error. Once stopping,
`spawn` refuses new work (it raises `Stopping`), so nothing starts behind the shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

log = logging.getLogger(__name__)

STOP_S = 5.0

T = TypeVar("T")


class Stopping(RuntimeError):
    """The supervisor is stopping: no new background work is taken."""


class Supervisor:
    def __init__(self) -> None:
        self._tasks: dict[asyncio.Task[Any], str] = {}  # insertion order is spawn order
        self._stopping = False

    def spawn(self, work: Coroutine[Any, Any, Any], what: str, *, group: str = "") -> asyncio.Task[Any]:
        """Run `work` in the background, owned here. `what` names it in logs; `group` lets `settle` wait for a
        part's tasks alone."""
        if self._stopping:
            work.close()
            raise Stopping(f"not starting {what}: sitrep is stopping")
        task = asyncio.get_running_loop().create_task(work, name=what)
        self._tasks[task] = group
        task.add_done_callback(self._finished)
        return task

    def running(self, group: str | None = None) -> list[asyncio.Task[Any]]:
        """The tasks under way, oldest first (of one group, or all)."""
        return [t for t, g in self._tasks.items() if not t.done() and (group is None or g == group)]

    async def settle(self, group: str | None = None, timeout: float | None = None) -> bool:
        """Wait until the tasks under way (of `group`, or all) have finished, including those they spawn meanwhile.
        False when `timeout` passed first."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while under_way := self.running(group):
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                return False
            await asyncio.wait(under_way, timeout=left)
        return True

    async def cancel(self, *groups: str, timeout: float = STOP_S) -> None:
        """Cancel the tasks of these groups, newest first, and wait up to `timeout` for them to end (one part
        stopping while the rest runs on)."""
        tasks = [t for t in reversed(self.running()) if self._tasks.get(t) in groups]
        await self._cancelled(tasks, timeout)

    async def stop(self, timeout: float = STOP_S) -> None:
        """Refuse new work, cancel every task newest first, and wait up to `timeout` for them to end."""
        self._stopping = True
        await self._cancelled(list(reversed(self.running())), timeout)

    async def _cancelled(self, tasks: list[asyncio.Task[Any]], timeout: float) -> None:
        for task in tasks:
            task.cancel()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                log.warning("%s did not stop within %.0f s", task.get_name(), timeout)

    @property
    def stopping(self) -> bool:
        return self._stopping

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.pop(task, None)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            log.error("%s failed", task.get_name(), exc_info=error)


class Scope:
    """The tasks one call fans out to, owned by that call: `start` them inside `async with Scope()`; when the block
    ends (returned, raised or cancelled) those still running are cancelled and waited for. Their results are the
    caller's to await (a failure nobody retrieved is reported by asyncio as such)."""

    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[Any]] = []

    def start(self, work: Coroutine[Any, Any, T], what: str = "") -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(work, name=what or None)
        self._tasks.append(task)
        return task

    async def __aenter__(self) -> Scope:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        running = [t for t in self._tasks if not t.done()]
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running)


class Worker:
    """One background task of the Supervisor's that works through a queue kept elsewhere (the store), round by
    round: the Slack poster's sender, the alert desk's taker. `kick()` wakes it, starting it when none runs; each
    `round()` answers how long to pause before the next (0: at once; None: nothing is left for it now). Before
    `start()` it ends once a round finds nothing; after, it keeps looking every `poll_s`. `settle()` waits until a
    round found nothing (tests, benchmarks, shutdown)."""

    def __init__(
        self,
        supervisor: Supervisor,
        round: Callable[[], Awaitable[float | None]],
        what: str,
        *,
        group: str,
        poll_s: float,
    ) -> None:
        self.supervisor = supervisor
        self.round = round
        self.what = what
        self.group = group
        self.poll_s = poll_s
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._watching = False
        self._idle = asyncio.Event()
        self._idle.set()

    def start(self) -> None:
        """Work through what is waiting now, and keep looking every `poll_s`."""
        self._watching = True
        self.kick()

    def kick(self) -> None:
        """Something new may be waiting: wake the task (started when none runs, unless the app is stopping)."""
        self._wake.set()
        self._idle.clear()
        if (self._task is None or self._task.done()) and not self.supervisor.stopping:
            self._task = self.supervisor.spawn(self._run(), self.what, group=self.group)

    async def settle(self, timeout: float | None = None) -> bool:
        """Wait until a round found nothing left; False when `timeout` passed first."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            pause = await self.round()
            if pause is None:
                self._idle.set()
                if not self._watching:
                    if self._wake.is_set():  # kicked during the round: one more
                        continue
                    return
                pause = self.poll_s
            if pause <= 0:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), pause)
            except TimeoutError:
                pass
