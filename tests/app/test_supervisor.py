"""The Supervisor owns background tasks: failures are logged, groups settle apart, stop cancels newest first and
refuses new work."""

from __future__ import annotations

import asyncio
import logging

import pytest

from supervisor import Scope, Stopping, Supervisor, Worker


async def test_a_failing_task_is_logged_with_what_it_was_doing(caplog: pytest.LogCaptureFixture) -> None:
    supervisor = Supervisor()

    async def boom() -> None:
        raise ValueError("upstream said no")

    supervisor.spawn(boom(), "refreshing data sources")
    await supervisor.settle()
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in failures] == ["refreshing data sources failed"]
    assert supervisor.running() == []


async def test_settle_waits_for_one_group_only() -> None:
    supervisor = Supervisor()
    release = asyncio.Event()
    finished: list[str] = []

    async def work(name: str, wait: bool) -> None:
        if wait:
            await release.wait()
        finished.append(name)

    supervisor.spawn(work("slow", True), "slow", group="other")
    supervisor.spawn(work("fast", False), "fast", group="web")
    assert await supervisor.settle("web")
    assert finished == ["fast"]
    assert not await supervisor.settle("other", timeout=0.01)
    release.set()
    assert await supervisor.settle()
    assert finished == ["fast", "slow"]


async def test_settle_includes_work_spawned_while_waiting() -> None:
    supervisor = Supervisor()
    finished: list[str] = []

    async def child() -> None:
        finished.append("child")

    async def parent() -> None:
        supervisor.spawn(child(), "child", group="g")
        finished.append("parent")

    supervisor.spawn(parent(), "parent", group="g")
    await supervisor.settle("g")
    assert sorted(finished) == ["child", "parent"]


async def test_stop_cancels_newest_first_and_refuses_new_work() -> None:
    supervisor = Supervisor()
    order: list[str] = []
    started = [asyncio.Event(), asyncio.Event()]

    async def forever(name: str, ready: asyncio.Event) -> None:
        try:
            ready.set()
            await asyncio.Event().wait()
        finally:
            order.append(name)

    supervisor.spawn(forever("first", started[0]), "first")
    supervisor.spawn(forever("second", started[1]), "second")
    await asyncio.gather(*(e.wait() for e in started))
    await supervisor.stop()
    assert order == ["second", "first"]
    assert supervisor.stopping
    work = forever("late", asyncio.Event())
    with pytest.raises(Stopping):
        supervisor.spawn(work, "late")
    assert supervisor.running() == []


async def test_cancel_stops_one_group_and_leaves_the_rest_running() -> None:
    supervisor = Supervisor()
    stopped: list[str] = []
    ready = [asyncio.Event(), asyncio.Event()]

    async def forever(name: str, started: asyncio.Event) -> None:
        try:
            started.set()
            await asyncio.Event().wait()
        finally:
            stopped.append(name)

    supervisor.spawn(forever("poller", ready[0]), "poller", group="poller")
    other = supervisor.spawn(forever("relay", ready[1]), "relay", group="drain")
    await asyncio.gather(*(e.wait() for e in ready))
    await supervisor.cancel("poller")
    assert stopped == ["poller"] and supervisor.running() == [other] and not supervisor.stopping
    await supervisor.stop()
    assert stopped == ["poller", "relay"]


async def test_a_scope_ends_what_it_started_when_its_block_ends() -> None:
    release = asyncio.Event()
    ended: list[str] = []

    async def slow() -> str:
        try:
            await release.wait()
            return "slow"
        finally:
            ended.append("slow")

    async def fast() -> str:
        return "fast"

    async with Scope() as scope:
        quick = scope.start(fast(), "fast")
        late = scope.start(slow(), "slow")
        assert await quick == "fast"
    assert late.cancelled() and ended == ["slow"]  # cancelled and waited for, not left running


async def test_a_scope_left_by_an_error_cancels_the_rest_and_the_error_stands() -> None:
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    with pytest.raises(LookupError):
        async with Scope() as scope:
            task = scope.start(forever(), "forever")
            await started.wait()
            raise LookupError("the first look could not be posted")
    assert task.cancelled()


async def test_a_worker_runs_rounds_until_one_finds_nothing_and_a_kick_mid_round_gets_another() -> None:
    supervisor = Supervisor()
    queue = [3, 2, 1]
    seen: list[int] = []
    in_round, go_on = asyncio.Event(), asyncio.Event()

    async def round() -> float | None:
        if not queue:
            return None
        seen.append(queue.pop(0))
        if seen == [3]:
            in_round.set()
            await go_on.wait()
        return 0

    worker = Worker(supervisor, round, "draining", group="w", poll_s=60)
    worker.kick()
    await in_round.wait()
    queue.append(9)  # new work arrives while the first round runs: its kick is not lost
    worker.kick()
    go_on.set()
    assert await worker.settle(5)
    await supervisor.settle("w")  # not started: it ends once a round found nothing
    assert seen == [3, 2, 1, 9] and supervisor.running("w") == []


async def test_a_started_worker_keeps_looking_until_the_supervisor_stops() -> None:
    supervisor = Supervisor()
    rounds = 0
    looked = asyncio.Event()

    async def round() -> float | None:
        nonlocal rounds
        rounds += 1
        if rounds == 3:
            looked.set()
        return None

    worker = Worker(supervisor, round, "watching", group="w", poll_s=0.01)
    worker.start()
    await asyncio.wait_for(looked.wait(), 5)  # idle, yet it looked again every poll_s
    assert len(supervisor.running("w")) == 1
    await supervisor.stop()
    assert supervisor.running("w") == []
