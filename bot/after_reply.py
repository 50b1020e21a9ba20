"""Work a web route does after it has answered (202 then work): each route's tasks kept on its aiohttp app, so a
test (or the shutdown) can wait for them, and a task that fails is logged rather than lost.

    TASKS = after_reply.key("github")          # at import
    after_reply.install(app, TASKS)            # when the routes are added: an empty set, drained on cleanup
    after_reply.spawn(request.app, TASKS, coro, "what failed")
    await after_reply.running(app, TASKS)      # tests: every task started so far has finished
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

DRAIN_S = 5.0  # on cleanup, how long the tasks under way may still run

Tasks = web.AppKey[set[asyncio.Task[Any]]]


def key(name: str) -> Tasks:
    return web.AppKey(f"{name}_tasks")


def install(app: web.Application, tasks: Tasks) -> None:
    app[tasks] = set()

    async def drain(app: web.Application) -> None:
        under_way: set[asyncio.Task[Any]] = app[tasks]
        if under_way:
            await asyncio.wait(set(under_way), timeout=DRAIN_S)

    app.on_cleanup.append(drain)


def spawn(app: web.Application, tasks: Tasks, work: Coroutine[Any, Any, Any], what: str) -> asyncio.Task[Any]:
    task = asyncio.create_task(work)
    app[tasks].add(task)
    task.add_done_callback(app[tasks].discard)

    def failed(done: asyncio.Task[Any]) -> None:
        if not done.cancelled() and done.exception() is not None:
            log.error("%s failed", what, exc_info=done.exception())

    task.add_done_callback(failed)
    return task


async def running(app: web.Application, tasks: Tasks) -> None:
    under_way: set[asyncio.Task[Any]] = app[tasks]
    if under_way:
        await asyncio.gather(*set(under_way))
