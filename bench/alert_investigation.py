"""An alert notification to sitrep's first reply in its thread, in units of one delayed upstream request
(target ≤ 1.3× the slowest single call it makes), and the webhook's 202 time (target ≤ 100 ms).

The fake Grafana answers every request after DELAY_S (GitHub's changes come from the database). One delayed
request is measured first (a GET to the delayed Grafana double), as bench/report_critical_path.py does.
Warm: the discovery cache filled as a running sitrep's is at startup (bot/runtime.py warms every skill: data
sources, Loki labels, metric names), nothing else learned: whether Loki has pattern ingestion is still unknown.
Cold (shown for context): a process's first alert, discovery empty, in a world of its own.
tests/alerts/test_alerts_desk.py's world: a firing Grafana rule with its expression, Loki errors for the alert's labels,
and changes before it.
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import httpx
from aiohttp import web

from bench import Row, ratio_row
from bot.runtime import Runtime
from bot.web import build_web_app
from tests.alerts.test_alerts_desk import Desk, _notification, desk_world, iso
from tests.fakes.grafana import FakeGrafana
from tests.fakes.slack import FakeSlack
from tests.support.alert_payloads import grafana_webhook
from tests.support.github_world import World, github_world

DELAY_S = 0.3
TARGET = 1.3
TOKEN = "bench-alerts-token-0001"


async def one_delayed_request(grafana: FakeGrafana) -> float:
    """The quicker of two on one connection (the first pays the connection's setup; sitrep's client keeps its own)."""
    async with httpx.AsyncClient() as client:
        times = []
        for _ in range(2):
            started = time.perf_counter()
            await client.get(f"{grafana.url}/api/health")
            times.append(time.perf_counter() - started)
        return min(times)


async def first_reply(w: World, slack: FakeSlack, desk: Desk, starts: datetime, *, warm: bool) -> tuple[float, int]:
    """Seconds to the first reply in Slack (the alert's post, then the reply in its thread, through the poster),
    and how many Grafana requests were made before it."""
    team = await w.team()
    if warm:
        grafana = next(s for s in await w.services.skills_for(team) if s.name == "grafana")
        await grafana.warm()
    w.grafana.delay = DELAY_S
    before, mark = len(w.grafana.requests), len(slack.calls)
    started = time.perf_counter()
    await desk.accept(team, _notification(starts), channel="C0ALERTS")
    await slack.wait_for_call("chat.postMessage", lambda c: bool(c.args.get("thread_ts")), timeout=30, since=mark)
    elapsed, calls = time.perf_counter() - started, len(w.grafana.requests) - before
    await desk.settle()
    return elapsed, calls


async def rows() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        async with desk_world(Path(tmp) / "warm") as (w, slack, desk, starts):
            w.grafana.delay = DELAY_S
            unit = await one_delayed_request(w.grafana)
            warm, warm_calls = await first_reply(w, slack, desk, starts, warm=True)
        async with desk_world(Path(tmp) / "cold") as (w, slack, desk, starts):
            cold, cold_calls = await first_reply(w, slack, desk, starts, warm=False)
        async with FakeSlack() as slack:  # the webhook route posts through the Runtime's poster
            tokens = {"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_API_URL": slack.api_url}
            async with github_world(Path(tmp) / "ack", SITREP_ALERTS_TOKEN=TOKEN, **tokens) as w:
                ack = await _ack_time(w, datetime.now(UTC).replace(microsecond=0))
    note = f"one delayed Grafana request = {unit:.2f} s; {warm_calls} Grafana calls, all at once"
    return [
        ratio_row("alert: first reply in its thread, warm / one delayed request", warm / unit, TARGET, note),
        Row(
            "alert: first reply, cold / one delayed request",
            f"{cold / unit:.2f}×",
            note=f"a process's first alert, discovery empty: data sources -> labels -> queries ({cold_calls} calls)",
        ),
        Row("alert webhook: 202", f"{ack * 1000:.0f} ms", "≤ 100 ms", ack <= 0.1, "POST /alerts/grafana"),
    ]


async def _ack_time(w: World, starts: datetime) -> float:
    runtime = Runtime(w.services)
    app = build_web_app(runtime)
    runner = web.AppRunner(app, auto_decompress=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/alerts/grafana?channel=C0ALERTS"
    body = json.dumps(grafana_webhook(startsAt=iso(starts.replace(minute=(starts.minute + 1) % 60)))).encode()
    try:
        async with aiohttp.ClientSession() as http:
            started = time.perf_counter()
            async with http.post(url, data=body, headers={"Authorization": f"Bearer {TOKEN}"}) as r:
                assert r.status == 202
            return time.perf_counter() - started
    finally:
        desk, poster = runtime.alert_desk(), runtime.poster()
        await runner.cleanup()
        if desk is not None and poster is not None:
            await desk.settle()
            await poster.settle()
        await runtime.close()
