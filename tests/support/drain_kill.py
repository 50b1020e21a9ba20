"""A drain under fire, shared by the e2e test and the benchmark: `python app.py` takes signed Vercel drain posts of
100 lines every 50 ms, is SIGKILLed mid-stream, and is started again on the same database. What it tells: which
lines were answered 200 (Vercel will never send those again) and which of them the Loki double has."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.fakes.loki import FakeLoki
from tests.fakes.slack import FakeSlack
from tests.support.app_process import AppProcess, app_env
from tests.support.drain_support import DRAIN_SECRET, entry, ndjson, sign

PER_POST = 100
EVERY_S = 0.05
KILL_AFTER_S = 1.6
_PORT = re.compile(r"web server on http://[^:]+:(\d+)")


@dataclass
class KillRun:
    posted: int = 0  # lines sent
    acked: set[str] = field(default_factory=set)  # ids of the lines answered 200
    refused: int = 0  # lines answered otherwise, or not answered (the process died under them)
    recovered_s: float | None = None  # from the restart until Loki had every acknowledged line
    log: str = ""

    def taken(self, loki: FakeLoki) -> Counter[str]:
        return Counter(json.loads(line)["id"] for _, _, line in loki.lines())

    def lost(self, loki: FakeLoki) -> set[str]:
        return self.acked - set(self.taken(loki))

    def duplicates(self, loki: FakeLoki) -> int:
        return sum(n - 1 for n in self.taken(loki).values())


def drain_app_env(tmp: Path, slack: FakeSlack, loki: FakeLoki, **extra: str) -> dict[str, str]:
    return app_env(
        tmp,
        slack,
        LOKI_PUSH_URL=loki.push_url,
        LOKI_PUSH_USER=loki.user,
        LOKI_PUSH_TOKEN=loki.token,
        VERCEL_DRAIN_SECRET=DRAIN_SECRET,
        **extra,
    )


async def web_port(app: AppProcess) -> int:
    match = _PORT.search(await app.wait_line(_PORT.pattern))
    assert match is not None
    return int(match.group(1))


async def post_then_kill(app: AppProcess, run: KillRun, *, kill_after: float = KILL_AFTER_S) -> None:
    """Post PER_POST lines every EVERY_S seconds (each post on its own, as Vercel's deliveries overlap) and SIGKILL
    the process `kill_after` seconds after the first post; record which lines were answered 200."""
    port = await web_port(app)
    started = time.monotonic()
    posts: list[asyncio.Task[None]] = []

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:

        async def post(first: int) -> None:
            items = [entry(i) for i in range(first, first + PER_POST)]
            body = ndjson(items)
            try:
                response = await http.post("/drains/vercel", content=body, headers=sign(body))
            except httpx.HTTPError:
                run.refused += PER_POST
                return
            if response.status_code == 200:
                run.acked.update(item["id"] for item in items)
            else:
                run.refused += PER_POST

        n = 0
        while time.monotonic() - started < kill_after:
            posts.append(asyncio.create_task(post(n * PER_POST)))
            run.posted += PER_POST
            n += 1
            await asyncio.sleep(EVERY_S)  # the pace of the traffic, not a wait for an event
        await app.kill()
        await asyncio.gather(*posts)
    run.log = app.log


async def kill_and_restart(tmp: Path, slack: FakeSlack, loki: FakeLoki, timeout: float = 60.0) -> KillRun:
    """The whole scenario: start, post, SIGKILL, start again on the same database, wait until Loki has every
    acknowledged line (or `timeout`), stop. The caller reads `lost` and `duplicates`."""
    env = drain_app_env(tmp, slack, loki)
    run = KillRun()
    first = await AppProcess("first", env).start()
    try:
        await post_then_kill(first, run)
    finally:
        if not first.exited:
            await first.kill()
    restarted = time.monotonic()
    second = await AppProcess("second", env).start()
    try:
        await web_port(second)
        try:
            await loki.wait_for(lambda fake: not run.lost(fake), timeout=timeout)
            run.recovered_s = time.monotonic() - restarted
        except TimeoutError:
            pass  # the caller reports what is missing
    finally:
        await second.stop()
        run.log += "\n--- restarted ---\n" + second.log
    return run
