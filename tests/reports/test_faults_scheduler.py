"""Fault tests of scheduled reports with real sitrep processes: killed mid-report, and two on one database.

Each test prepares a database whose Morning report's slot is this minute (so a starting sitrep catches it up
at once), starts `python app.py` against the local Slack and Grafana, and counts the posts to the report
channel.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from settings import Settings
from storage.jobs import MORNING_REPORT, slot_key
from storage.services import open_storage
from tests.fakes.slack import FakeSlack
from tests.support.app_process import AppProcess, app_env
from tests.support.holding_grafana import HoldingGrafana

pytestmark = pytest.mark.e2e

CHANNEL = "C0REPORTS"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def grafana() -> AsyncIterator[HoldingGrafana]:
    fake = HoldingGrafana()
    async with fake:
        fake.add_logs({"source": "lambda"}, ["GET /api 200", "error: upstream timed out"])
        yield fake
        fake.released.set()


async def prepare(env: dict[str, str]) -> str:
    """Seed the database; the Morning report's cron set to this minute, the Evening report off. The slot."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    storage = await open_storage(Settings.from_env(env))
    try:
        async with storage.db.transaction() as conn:
            await conn.execute(
                "UPDATE scheduled_jobs SET cron = ?, enabled = (name = ?)",
                (f"{now.minute} {now.hour} * * *", MORNING_REPORT),
            )
    finally:
        await storage.close()
    return slot_key(now)


async def runs(env: dict[str, str]) -> list[dict[str, Any]]:
    storage = await open_storage(Settings.from_env(env))
    try:
        return [dict(r) for r in await storage.db.fetchall("SELECT * FROM job_runs ORDER BY id")]
    finally:
        await storage.close()


def posts(slack: FakeSlack) -> list[Any]:
    return [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == CHANNEL]


async def test_killed_mid_report_then_restarted_posts_the_slot_once(
    tmp_path: Path, slack: FakeSlack, grafana: HoldingGrafana
) -> None:
    env = app_env(tmp_path, slack, SITREP_REPORT_CHANNEL=CHANNEL, GRAFANA_URL=grafana.url, GRAFANA_TOKEN=grafana.token)
    slot = await prepare(env)
    grafana.holding = True
    first = await AppProcess("first", env).start()
    try:
        await first.wait_line(rf"running {MORNING_REPORT} for {slot}")
        await asyncio.wait_for(grafana.arrived.wait(), 20)  # mid-report: its Grafana queries are out
        [run] = await runs(env)
        assert run["status"] == "running"
    finally:
        await first.kill()
    grafana.holding = False
    grafana.released.set()

    second = await AppProcess("second", env).start()
    try:
        await slack.wait_for_call("chat.postMessage", lambda c: c.args.get("channel") == CHANNEL, timeout=30)
        await second.wait_line(rf"posted .* to {CHANNEL}")
    finally:
        assert await second.stop() == 0, second.log
    assert len(posts(slack)) == 1
    [run] = await runs(env)
    assert (run["status"], run["scheduled_for"]) == ("posted", slot) and run["message_ts"]
    assert "Traceback" not in second.log


async def test_two_processes_on_one_database_post_a_slot_once(
    tmp_path: Path, slack: FakeSlack, grafana: HoldingGrafana
) -> None:
    env = app_env(tmp_path, slack, SITREP_REPORT_CHANNEL=CHANNEL, GRAFANA_URL=grafana.url, GRAFANA_TOKEN=grafana.token)
    slot = await prepare(env)
    apps = [AppProcess(name, env) for name in ("one", "two")]
    await asyncio.gather(*(a.start() for a in apps))
    try:
        await asyncio.gather(*(a.wait_line(rf"catch-up of {MORNING_REPORT}: ") for a in apps))
        await slack.wait_for_call("chat.postMessage", lambda c: c.args.get("channel") == CHANNEL, timeout=30)
        ran = [a for a in apps if any(f"running {MORNING_REPORT} for {slot}" in line for line in a.lines)]
        assert len(ran) == 1, "\n\n".join(a.log for a in apps)
        await ran[0].wait_line(rf"posted .* to {CHANNEL}")
    finally:
        codes = await asyncio.gather(*(a.stop() for a in apps))
    assert codes == [0, 0]
    assert len(posts(slack)) == 1
    assert [(r["scheduled_for"], r["status"]) for r in await runs(env)] == [(slot, "posted")]
