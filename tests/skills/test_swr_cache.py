"""skills/cache.py, the one stale-while-revalidate cache: loads are the supervisor's tasks, a remembered key is
recalled as stale after a restart and refreshed behind, and neither a failing memory nor a stopping supervisor
keeps a lookup from answering."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from skills.cache import Remember, SwrCache
from supervisor import Supervisor

REMEMBER = Remember("answer", lambda value: {"n": value}, lambda kept: kept["n"])


class Memory:
    def __init__(self, kept: dict[str, tuple[Any, float]] | None = None, *, broken: bool = False) -> None:
        self.kept = dict(kept or {})
        self.broken = broken

    async def recall(self, name: str) -> tuple[Any, float] | None:
        if self.broken:
            raise OSError("database unavailable")
        return self.kept.get(name)

    async def keep(self, name: str, value: Any) -> None:
        if self.broken:
            raise OSError("database unavailable")
        self.kept[name] = (value, 0.0)


class Loads:
    def __init__(self) -> None:
        self.count = 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self) -> int:
        self.count += 1
        await self.gate.wait()
        return self.count


async def test_loads_are_supervised_and_shared() -> None:
    supervisor = Supervisor()
    cache = SwrCache(300, supervisor)
    load = Loads()
    load.gate.clear()
    waiting = [asyncio.ensure_future(cache.get("k", load)) for _ in range(3)]
    await asyncio.sleep(0)
    assert len(supervisor.running("discovery")) == 1  # one load, owned by the supervisor
    load.gate.set()
    assert await asyncio.gather(*waiting) == [1, 1, 1] and load.count == 1
    assert await supervisor.settle("discovery")


async def test_a_remembered_value_is_served_stale_and_refreshed_behind() -> None:
    memory = Memory({"answer": ({"n": 7}, 3600.0)})  # found by the last process, an hour ago
    supervisor = Supervisor()
    cache = SwrCache(300, supervisor, memory=memory)
    load = Loads()
    value, known = await cache.lookup("k", load, remember=REMEMBER)
    assert (value, known) == (7, True) and load.count <= 1  # answered at once; the refresh runs behind
    await cache.settle()
    assert load.count == 1 and memory.kept["answer"] == ({"n": 1}, 0.0)
    assert await cache.get("k", load, remember=REMEMBER) == 1 and load.count == 1  # fresh now: no new load


@pytest.mark.parametrize("broken", [True, False])
async def test_a_failing_memory_or_a_stopping_supervisor_only_makes_a_slower_lookup(broken: bool) -> None:
    supervisor = Supervisor()
    if not broken:
        await supervisor.stop()  # shutting down: no task is started, the lookup runs in the caller's task
    cache = SwrCache(300, supervisor, memory=Memory(broken=broken))
    assert await cache.get("k", Loads(), remember=REMEMBER) == 1
