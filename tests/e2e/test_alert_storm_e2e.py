"""Accepted means durable, for alerts: a storm of webhooks answered 202 by a `python app.py` that is then SIGKILLed
before it could investigate or post most of them, against a Slack that rate-limits as Slack documents; a new
`python app.py` on the same database posts and investigates every one (the alerts and the outbox are in the store,
and a process of this host that is gone gives its work back at once)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.bot.test_alert_storm import TOKEN, accounted, post_all, storm_alert
from tests.e2e.test_alerts_e2e import record_changes, seed
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_limits import SlackLimits
from tests.support.app_process import AppProcess, app_env
from tests.support.github_world import github_world

pytestmark = pytest.mark.e2e  # starts `python app.py`, twice

ALERTS = 40


async def web_url(process: AppProcess) -> str:
    line = await process.wait_line(r"web server on http://")
    port = re.search(r"http://[^:]+:(\d+)", line)
    assert port is not None
    return f"http://127.0.0.1:{port.group(1)}"


async def test_a_storm_accepted_by_a_killed_process_is_finished_by_the_next(tmp_path: Path) -> None:
    starts = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    limits = SlackLimits()
    async with github_world(tmp_path) as w, FakeSlack(rate_limits=limits) as slack:
        seed(w, starts)
        await record_changes(w, starts)
        env = app_env(tmp_path, slack, **{**w.env, "SITREP_ALERTS_TOKEN": TOKEN, "SITREP_TIMEZONE": "UTC"})
        first = await AppProcess("first", env).start()
        try:
            await slack.wait_connected(timeout=30)
            statuses = await post_all(await web_url(first), [storm_alert(i) for i in range(ALERTS)])
            assert statuses == [202] * ALERTS
        finally:
            await first.kill()  # SIGKILL: whatever it had not posted yet is only in the database
        listed, investigated, _ = accounted(slack, ALERTS)
        assert len(investigated) < ALERTS  # the storm was still being worked through when it died

        limits.buckets.pop("apps.connections.open", None)  # Tier 1 (one a minute): the restart comes a minute later
        second = await AppProcess("second", env).start()
        try:

            def all_accounted() -> bool:
                listed, investigated, _ = accounted(slack, ALERTS)
                return len(listed) == ALERTS and len(investigated) == ALERTS

            await slack.wait_until(all_accounted, timeout=120, what="every alert listed and investigated")
        finally:
            code = await second.stop()
        assert code == 0, second.log
        listed, investigated, _ = accounted(slack, ALERTS)
        assert listed == set(range(ALERTS)) and set(investigated) == set(range(ALERTS))
