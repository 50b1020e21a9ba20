"""A small stale-while-revalidate cache for discovery lookups (data sources, label names, event names).

An entry is kept `ttl` seconds. After that the stale value is still returned at once and a refresh runs in the
background, so only the first lookup of a key waits. Concurrent lookups of one key share one load; a failed or
empty load is not kept (what starts existing shows up at once). `fresh=True` waits for a new value.

It is behind skills/grafana/discovery.py and Amplitude's event list; `Skill.warm()` fills a skill's caches,
called once connected (bot/background.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Hashable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class _Entry:
    value: Any = None
    at: float = 0.0  # time.monotonic() of the value; 0: none yet
    task: asyncio.Task[Any] | None = None


class SwrCache:
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[Hashable, _Entry] = {}

    async def get(self, key: Hashable, load: Callable[[], Coroutine[Any, Any, Any]], *, fresh: bool = False) -> Any:
        entry = self._entries.setdefault(key, _Entry())
        if entry.at and not fresh:
            if time.monotonic() - entry.at >= self.ttl:
                self._start(key, entry, load)  # stale: answer now, refresh behind
            return entry.value
        return await asyncio.shield(self._start(key, entry, load))

    async def settle(self) -> None:
        """Wait for the loads under way (tests and benchmarks)."""
        tasks = [e.task for e in list(self._entries.values()) if e.task is not None and not e.task.done()]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def forget(self) -> None:
        self._entries.clear()

    def _start(self, key: Hashable, entry: _Entry, load: Callable[[], Coroutine[Any, Any, Any]]) -> asyncio.Task[Any]:
        if entry.task is not None and not entry.task.done():
            return entry.task
        task = asyncio.get_running_loop().create_task(load())
        entry.task = task

        def done(t: asyncio.Task[Any]) -> None:
            if t.cancelled():
                return
            error = t.exception()
            if error is None:
                entry.value = t.result()
                entry.at = time.monotonic() if entry.value else 0.0  # "nothing yet" is asked again next time
            else:
                log.debug("loading %s failed: %s", key, error)

        task.add_done_callback(done)
        return task
