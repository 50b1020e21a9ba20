"""The Vercel drain relay: lines per second relayed on this machine, and the latency it adds (receipt -> push).

sitrep's web server and relay run in-process against the local Loki push receiver (tests/fakes/loki.py, on the
same event loop, so its parsing is counted against the relay). Signed NDJSON requests of 500 Vercel-shaped lines
go out four at a time, like a busy drain; each is stored in the inbox table (SQLite) before its 200, requests
arriving together in one transaction; a 503 (queue full) is retried as Vercel would. Printed: lines/s over
the whole run (first request -> last line taken by Loki) against the 10,000 lines/s target, and the p99 of each
batch's wait from its oldest line's receipt to Loki's 204 (an upper bound for every line in it) against 1.5 s.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from agent.services import Services
from bench import Row
from bot.background import start_relay
from bot.runtime import Runtime
from bot.web import bound_port, start_web
from settings import Settings
from skills.vercel_drain import RelayLimits
from skills.vercel_drain.relay import Batch
from storage.services import open_storage
from tests.fakes.loki import FakeLoki
from tests.support.drain_support import DRAIN_SECRET, entry, ndjson, sign

LINES = 60_000
PER_REQUEST = 500
CONCURRENCY = 4
TARGET_RATE = 10_000
TARGET_P99_S = 1.5


async def rows() -> list[Row]:
    waits: list[tuple[float, int]] = []

    def on_push(batch: Batch, pushed_at: float) -> None:
        waits.append((pushed_at - batch.received, batch.lines))

    with tempfile.TemporaryDirectory() as tmp:
        async with FakeLoki() as loki:
            settings = Settings.from_env(
                {
                    "SITREP_DB": str(Path(tmp) / "bench.db"),
                    "SITREP_SECRET_KEY": Fernet.generate_key().decode(),
                    "SITREP_HTTP_PORT": "0",
                    "LOKI_PUSH_URL": loki.url,
                    "LOKI_PUSH_USER": loki.user,
                    "LOKI_PUSH_TOKEN": loki.token,
                    "VERCEL_DRAIN_SECRET": DRAIN_SECRET,
                }
            )
            services = Services(settings, await open_storage(settings))
            relay = await start_relay(services, replace(RelayLimits(), status_every=5.0))
            relay.on_push = on_push
            runner = await start_web(Runtime(services, drain=relay))
            now_ms = int(time.time() * 1000)
            bodies = []
            for start in range(0, LINES, PER_REQUEST):
                body = ndjson([entry(i % 100, ts_ms=now_ms + i) for i in range(start, start + PER_REQUEST)])
                bodies.append((body, sign(body)))
            refused = 0
            try:
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{bound_port(runner)}", timeout=30) as http:
                    queue: asyncio.Queue[tuple[bytes, dict[str, str]]] = asyncio.Queue()
                    for item in bodies:
                        queue.put_nowait(item)

                    async def sender() -> None:
                        nonlocal refused
                        while not queue.empty():
                            body, headers = queue.get_nowait()
                            while True:
                                response = await http.post("/drains/vercel", content=body, headers=headers)
                                if response.status_code == 200:
                                    break
                                refused += 1
                                await asyncio.sleep(0.05)

                    started = time.monotonic()
                    await asyncio.gather(*(sender() for _ in range(CONCURRENCY)))
                    await loki.wait_lines(LINES, timeout=120)
                    elapsed = time.monotonic() - started
            finally:
                await runner.cleanup()
                await relay.stop()
                await services.close()
    taken = len(loki.lines())
    rate = taken / elapsed
    per_line = sorted(w for w, n in waits for _ in range(n))
    p99 = per_line[int(len(per_line) * 0.99) - 1]
    setup = f"{LINES} lines in {len(bodies)} signed NDJSON requests, {CONCURRENCY} at a time; {refused} got 503"
    lost = "" if taken == LINES else f"; ONLY {taken} OF {LINES} LINES REACHED LOKI"
    return [
        Row(
            "lines relayed per second",
            f"{rate:,.0f}",
            f"≥ {TARGET_RATE:,}",
            rate >= TARGET_RATE and taken == LINES,
            setup + lost,
        ),
        Row(
            "p99 receipt → Loki 204 (s)",
            f"{p99:.2f}",
            f"< {TARGET_P99_S:g}",
            p99 < TARGET_P99_S,
            f"{len(waits)} pushes, median batch wait {statistics.median(w for w, _ in waits):.2f} s",
        ),
    ]


async def main() -> int:
    """Print the rows; 0 when every target is met."""
    results = await rows()
    for row in results:
        print(f"   {row.measure}: {row.value} (target {row.target}) {row.verdict}  {row.note}")
    return 0 if all(r.ok for r in results) else 1
