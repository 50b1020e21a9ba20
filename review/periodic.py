"""A round of work every few seconds until stopped: the GitHub poller and the deferred-review runner are each one.

Started on the app's Supervisor (its group is the part's name). A round that raises is logged and the next one runs
on time; `stop` waits up to STOP_S for the round under way, then cancels it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from supervisor import Supervisor

log = logging.getLogger(__name__)

STOP_S = 5.0


class Periodic:
    """Subclasses give `name` and `round()`; `start` runs it every `every` seconds until `stop`."""

    name = "periodic"

    def __init__(self, every: float) -> None:
        self.every = every
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def round(self) -> object:
        raise NotImplementedError

    def start(self, supervisor: Supervisor) -> None:
        self._task = supervisor.spawn(self.run(), self.name, group=self.name)

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.round()
            except Exception:
                log.exception("a %s round failed", self.name)
            try:
                await asyncio.wait_for(self._stop.wait(), self.every)
            except TimeoutError:
                pass

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, STOP_S)
            except TimeoutError:
                self._task.cancel()
            self._task = None
