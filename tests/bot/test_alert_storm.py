"""An alert storm against a Slack that rate-limits as Slack documents (about one message a second per channel, a
short burst, then 429 with Retry-After): every alert posted to /alerts/grafana at once is accounted for in Slack,
listed in a grouped message (a line each, linked) and investigated in its thread, most severe first."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.runtime import Runtime
from bot.web import build_web_app
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_limits import SlackLimits
from tests.support.alert_payloads import grafana_webhook
from tests.support.github_world import github_world

TOKEN = "alerts-token-0123456789"
CHANNEL = "C0STORM"
SEVERITIES = ["info", "warning", "critical", "high"]


def storm_alert(i: int) -> dict[str, Any]:
    severity = SEVERITIES[i % len(SEVERITIES)]
    labels = {"alertname": f"Storm {i:03d}", "service": f"svc-{i}", "severity": severity}
    body = grafana_webhook(labels=labels, fingerprint=f"{i:016x}")
    body["alerts"][0]["generatorURL"] = f"http://grafana.example/alerting/grafana/storm-{i}/view"
    return body


async def post_all(base: str, bodies: list[dict[str, Any]]) -> list[int]:
    """Every webhook at once, each on its own request, as Grafana sends one per alert group."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as http:

        async def one(body: dict[str, Any]) -> int:
            url = f"{base}/alerts/grafana?channel={CHANNEL}"
            async with http.post(url, data=json.dumps(body), headers={"Authorization": f"Bearer {TOKEN}"}) as r:
                return r.status

        return await asyncio.gather(*(one(b) for b in bodies))


def message_text(message: dict[str, Any]) -> str:
    parts = [message.get("text") or ""]
    for block in message.get("blocks") or []:
        parts.append(((block.get("text") or {}).get("text")) or "")
    return "\n".join(parts)


def accounted(slack: FakeSlack, count: int) -> tuple[set[int], dict[int, int], int]:
    """(alerts listed in a channel-level message, alert -> position of its investigation among the thread
    replies, how many channel-level messages)."""
    messages = slack.messages.get(CHANNEL, [])
    top = [m for m in messages if not m.get("thread_ts") or m["thread_ts"] == m["ts"]]
    replies = [m for m in messages if m.get("thread_ts") and m["thread_ts"] != m["ts"]]
    listed = {int(n) for m in top for n in re.findall(r"Storm (\d{3})", message_text(m))}
    investigated: dict[int, int] = {}
    for position, reply in enumerate(replies):
        for n in re.findall(r"\*Storm (\d{3})\* is firing", message_text(reply)):
            investigated.setdefault(int(n), position)
    return listed, investigated, len(top)


async def test_an_alert_storm_is_every_alert_accounted_for(tmp_path: Path) -> None:
    count = 100
    limits = SlackLimits()
    async with (
        FakeSlack(rate_limits=limits) as slack,
        github_world(
            tmp_path, SITREP_ALERTS_TOKEN=TOKEN, SLACK_BOT_TOKEN=slack.bot_token, SLACK_API_URL=slack.api_url
        ) as w,
    ):
        runtime = Runtime(w.services)
        runner = web.AppRunner(build_web_app(runtime))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        try:
            statuses = await post_all(
                f"http://127.0.0.1:{runner.addresses[0][1]}", [storm_alert(i) for i in range(count)]
            )
            assert statuses == [202] * count
            desk, poster = runtime.alert_desk(), runtime.poster()
            assert desk is not None and poster is not None
            assert await desk.settle(240) and await poster.settle(240)
        finally:
            await runner.cleanup()
            await runtime.close()
        listed, investigated, top = accounted(slack, count)
        assert listed == set(range(count)), f"not in Slack: {sorted(set(range(count)) - listed)}"
        assert set(investigated) == set(range(count)), (
            f"no investigation: {sorted(set(range(count)) - set(investigated))}"
        )
        assert top <= count // 10  # grouped: a few messages, not one per alert
        assert poster.rate_limited == limits.count()  # every 429 seen, and each post sent again after it

        def mean_position(severity: str) -> float:
            positions = [investigated[i] for i in range(count) if SEVERITIES[i % len(SEVERITIES)] == severity]
            return sum(positions) / len(positions)

        assert mean_position("critical") < mean_position("warning") < mean_position("info")  # most severe first
