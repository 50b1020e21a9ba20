"""The one stale-while-revalidate cache: discovery lookups (data sources, labels, metric names, what the report must
know of Grafana) and Amplitude's event list all live in one of these.

    cache = SwrCache(ttl=300, supervisor=supervisor, what="Grafana discovery")
    value = await cache.get(key, load)           # the first lookup of a key waits for its load…
    value = await cache.get(key, load)           # …later ones answer at once, refreshing behind once `ttl` has passed
    value = await cache.get(key, load, fresh=True)  # a new value now (joining a load under way)
    cache.peek(key)                              # what is known, without loading

Concurrent lookups of one key share one load. A failed or empty load is not kept, so what starts existing shows up
at once. Loads run as tasks of the app's `supervisor.Supervisor` (group "discovery"): a refresh outlives the
lookup that started it, and `settle()` (or `supervisor.settle("discovery")`) waits for them.

With a `memory` (skills/memory.py: a table in the database), a key looked up with `remember=` is kept across
restarts too: a process's first lookup answers with what an earlier process found (however old, as a stale entry
refreshed behind), so a restart does not put the discovery round trips back in front of the first report.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Hashable
from dataclasses import dataclass
from typing import Any, Protocol

from supervisor import Stopping, Supervisor

log = logging.getLogger(__name__)

GROUP = "discovery"


class Memory(Protocol):
    """Values kept across restarts, by name (skills/memory.py)."""

    async def recall(self, name: str) -> tuple[Any, float] | None:
        """(the JSON value, its age in seconds), or None."""
        ...

    async def keep(self, name: str, value: Any) -> None: ...


@dataclass(frozen=True)
class Remember:
    """How one key is kept in the memory: its name there, and its value to and from JSON."""

    name: str
    dump: Callable[[Any], Any]
    load: Callable[[Any], Any]


@dataclass
class _Outcome:
    value: Any = None
    error: BaseException | None = None


@dataclass
class _Entry:
    value: Any = None
    at: float | None = None  # time.monotonic() the value was found at (earlier than now for a recalled one)
    task: asyncio.Task[_Outcome] | None = None
    recalled: bool = False  # the memory was asked already


class SwrCache:
    def __init__(
        self, ttl: float, supervisor: Supervisor | None = None, *, what: str = "lookup", memory: Memory | None = None
    ) -> None:
        self.ttl = ttl
        self.what = what
        self.memory = memory
        # Standalone clients (a command line, a test) own their refreshes; the app hands its one supervisor down.
        self.supervisor = supervisor or Supervisor()
        self._entries: dict[Hashable, _Entry] = {}

    async def get(
        self,
        key: Hashable,
        load: Callable[[], Coroutine[Any, Any, Any]],
        *,
        fresh: bool = False,
        remember: Remember | None = None,
    ) -> Any:
        value, _ = await self.lookup(key, load, fresh=fresh, remember=remember)
        return value

    async def lookup(
        self,
        key: Hashable,
        load: Callable[[], Coroutine[Any, Any, Any]],
        *,
        fresh: bool = False,
        remember: Remember | None = None,
    ) -> tuple[Any, bool]:
        """(value, known): known is True when the value was answered from what was known (perhaps stale, perhaps
        from the memory) rather than loaded for this lookup."""
        entry = self._entries.setdefault(key, _Entry())
        if entry.at is None and remember is not None and not fresh:
            await self._recall(entry, remember)
        if entry.at is not None and not fresh:
            if time.monotonic() - entry.at >= self.ttl:
                self._start(key, entry, load, remember)  # stale: answer now, refresh behind
            return entry.value, True
        task = self._start(key, entry, load, remember)
        # Shutting down: no task is started, and the lookup is made in the caller's own task.
        outcome = await (asyncio.shield(task) if task is not None else self._run(key, entry, load, remember))
        if outcome.error is not None:
            raise outcome.error
        return outcome.value, False

    def peek(self, key: Hashable) -> Any:
        """The value known for `key` (None when none), without loading or refreshing."""
        entry = self._entries.get(key)
        return entry.value if entry is not None and entry.at is not None else None

    async def settle(self) -> None:
        """Wait for the loads under way (tests and benchmarks)."""
        tasks = [e.task for e in list(self._entries.values()) if e.task is not None and not e.task.done()]
        if tasks:
            await asyncio.wait(tasks)

    def forget(self, key: Hashable | None = None) -> None:
        """Drop one key (or every key): its next lookup waits for a new value."""
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)

    async def _recall(self, entry: _Entry, remember: Remember) -> None:
        entry.recalled, asked = True, entry.recalled
        if asked or self.memory is None:
            return
        try:
            found = await self.memory.recall(remember.name)
            if found is not None:
                value, age = found
                entry.value, entry.at = remember.load(value), time.monotonic() - max(age, self.ttl)
        except Exception as exc:  # a memory that cannot answer is only a slower first lookup
            log.warning("recalling %s failed (%s); looking it up", remember.name, type(exc).__name__)

    def _start(
        self,
        key: Hashable,
        entry: _Entry,
        load: Callable[[], Coroutine[Any, Any, Any]],
        remember: Remember | None,
    ) -> asyncio.Task[_Outcome] | None:
        if entry.task is not None and not entry.task.done():
            return entry.task
        work = self._run(key, entry, load, remember)
        try:
            entry.task = self.supervisor.spawn(work, f"looking up {self.what} {key}", group=GROUP)
        except Stopping:
            return None
        return entry.task

    async def _run(
        self,
        key: Hashable,
        entry: _Entry,
        load: Callable[[], Coroutine[Any, Any, Any]],
        remember: Remember | None,
    ) -> _Outcome:
        try:
            value = await load()
        except Exception as exc:  # handed to the waiting caller, if any; a refresh only logs it
            log.debug("looking up %s %s failed: %s", self.what, key, exc)
            return _Outcome(error=exc)
        if value:
            entry.value, entry.at = value, time.monotonic()
            if remember is not None and self.memory is not None:
                await self._keep(remember, value)
        else:  # "nothing yet" is asked again next time
            entry.value, entry.at = value, None
        return _Outcome(value)

    async def _keep(self, remember: Remember, value: Any) -> None:
        assert self.memory is not None
        try:
            await self.memory.keep(remember.name, remember.dump(value))
        except Exception as exc:
            log.warning("keeping %s failed (%s); the next restart looks it up again", remember.name, exc)
