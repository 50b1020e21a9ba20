"""Start-up: `python app.py` spawned against the local Slack, timed to Socket Mode connected; its idle RSS.

The process is started three times (the median is shown, the slowest in the note); the resident set size is read
from /proc two seconds after it connected, while it idles. The Anthropic key is set, so the figure shows that the
model SDK is not loaded before a question needs it.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

from bench import Row, ratio_row
from tests.fakes.slack import FakeSlack
from tests.support.environment import ROOT, subprocess_env

RUNS = 3
TARGET_S = 2.0
TARGET_RSS_MB = 100.0
IDLE_S = 2.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc: this bench needs Linux")


async def one_start(tmp: Path, slack: FakeSlack, n: int) -> tuple[float, float]:
    env = {
        "SITREP_DB": str(tmp / f"start{n}.db"),
        "SITREP_SECRET_KEY": Fernet.generate_key().decode(),
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_APP_TOKEN": slack.app_token,
        "SLACK_API_URL": slack.api_url,
        "SITREP_HTTP_PORT": "0",
        "ANTHROPIC_API_KEY": "sk-ant-bench-not-a-real-key",
    }
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "app.py"),
        env=subprocess_env(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await slack.wait_connected(timeout=30, count=n + 1)
        connected = time.monotonic() - started
        await asyncio.sleep(IDLE_S)  # idling is the thing measured here, not a wait for an event
        return connected, rss_mb(proc.pid)
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)


async def import_time() -> float:
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import app", cwd=str(ROOT), env=subprocess_env({})
    )
    await proc.wait()
    return time.monotonic() - started


async def rows() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeSlack() as slack:
            runs = [await one_start(Path(tmp), slack, n) for n in range(RUNS)]
    connect = [c for c, _ in runs]
    rss = [r for _, r in runs]
    imported = await import_time()
    return [
        ratio_row(
            "start-up to Socket Mode connected",
            statistics.median(connect),
            TARGET_S,
            f"median of {RUNS}; slowest {max(connect):.2f} s",
            unit=" s",
        ),
        ratio_row("idle RSS", max(rss), TARGET_RSS_MB, "largest of the runs, 2 s after connecting", unit=" MB"),
        Row("python -c 'import app'", f"{imported:.2f} s", note="interpreter start included"),
    ]
