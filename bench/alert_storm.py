"""An alert storm: 300 distinct Grafana alerts posted to /alerts/grafana within 1 s, against the Slack double that
enforces Slack's documented limits (tests/fakes/slack_limits.py: chat.postMessage about once a second per channel
after a short burst, chat.update 50 a minute, then 429 with Retry-After).

Printed: alerts unaccounted for (target 0: each listed in a channel message and investigated in its thread), the
429s Slack answered, the seconds from the first webhook to the last alert listed and to the last investigation
posted, and how many messages carried them (Slack's limit makes one message a second the floor).
tests/bot/test_alert_storm.py is the same storm, smaller, as a test.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from aiohttp import web

from bench import Row
from bot.runtime import Runtime
from bot.web import build_web_app
from tests.bot.test_alert_storm import TOKEN, accounted, post_all, storm_alert
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_limits import SlackLimits
from tests.support.github_world import github_world

ALERTS = 300
SPREAD_S = 1.0
BATCHES = 10


async def rows() -> list[Row]:
    limits = SlackLimits()
    with tempfile.TemporaryDirectory() as tmp:
        async with (
            FakeSlack(rate_limits=limits) as slack,
            github_world(
                Path(tmp), SITREP_ALERTS_TOKEN=TOKEN, SLACK_BOT_TOKEN=slack.bot_token, SLACK_API_URL=slack.api_url
            ) as w,
        ):
            runtime = Runtime(w.services)
            runner = web.AppRunner(build_web_app(runtime))
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            base = f"http://127.0.0.1:{runner.addresses[0][1]}"
            bodies = [storm_alert(i) for i in range(ALERTS)]
            size = ALERTS // BATCHES
            started = time.monotonic()
            try:
                batches = []
                for batch in range(BATCHES):  # 300 webhooks sent over one second, not waiting for the answers
                    await asyncio.sleep(max(0.0, started + batch * SPREAD_S / BATCHES - time.monotonic()))
                    batches.append(asyncio.create_task(post_all(base, bodies[batch * size : (batch + 1) * size])))
                sent_in = time.monotonic() - started
                statuses = [s for answered in await asyncio.gather(*batches) for s in answered]
                answered_in = time.monotonic() - started
                desk, poster = runtime.alert_desk(), runtime.poster()
                assert desk is not None and poster is not None
                await desk.settle()
                await poster.settle()
            finally:
                await runner.cleanup()
                await runtime.close()
            listed, investigated, top = accounted(slack, ALERTS)
            posts = [c for c in slack.calls_to("chat.postMessage") if c.error is None]
            tops = [c.at for c in posts if not c.args.get("thread_ts")]
            replies = [c.at for c in posts if c.args.get("thread_ts")]
    missing = ALERTS - len(listed & set(investigated))
    refused = sum(1 for s in statuses if s != 202)
    return [
        Row(
            "alert storm: alerts unaccounted for",
            str(missing + refused),
            "0",
            missing + refused == 0,
            f"{ALERTS} alerts sent in {sent_in:.1f} s, all answered 202 after {answered_in:.1f} s; each listed in a"
            " channel message and investigated in its thread",
        ),
        Row(
            "alert storm: 429s from Slack",
            str(limits.count()),
            note=f"each post sent again after its Retry-After; {len(posts)} messages in all ({top} in the channel)",
        ),
        Row(
            "alert storm: last alert listed / last investigation",
            f"{max(tops) - started:.1f} s / {max(replies) - started:.1f} s",
            note="from the first webhook; Slack allows about one message a second per channel",
        ),
    ]
