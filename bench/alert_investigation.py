"""An alert notification to sitrep's first reply in its thread, in units of one delayed upstream request
(target ≤ 1.3× the slowest single call it makes), and the webhook's 202 time (target ≤ 100 ms).

The fake Grafana answers every request after DELAY_S (GitHub's changes come from the database); discovery is
warmed first, as a running sitrep's is. tests/test_alerts_desk.py's world: a firing Grafana rule with its
expression, Loki errors for the alert's labels, and changes before it.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from pydantic import SecretStr

from alerts.desk import desk_for
from bench import Row, ratio_row
from bot.web import build_web_app
from tests.alert_payloads import grafana_webhook
from tests.test_alerts_desk import _notification, desk_world, iso

DELAY_S = 0.3
TOKEN = "bench-alerts-token-0001"


async def rows() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        async with desk_world(Path(tmp)) as (w, _slack, desk, starts):
            team = await w.team()
            grafana = next(s for s in await w.services.skills_for(team) if s.name == "grafana")
            await grafana.warm()
            w.grafana.delay = DELAY_S
            started = time.perf_counter()
            run = asyncio.create_task(desk.handle(team, _notification(starts), channel="C0ALERTS"))
            await desk.first_reply.wait()
            first = time.perf_counter() - started
            await run
            await desk.settle()
            w.services.slack = desk.slack  # the webhook route posts with the services' client
            ack = await _ack_time(w, starts)
    return [
        ratio_row("alert: first reply in its thread", first / DELAY_S, 1.3, f"one Grafana request = {DELAY_S:g} s"),
        Row("alert webhook: 202", f"{ack * 1000:.0f} ms", "≤ 100 ms", ack <= 0.1, "POST /alerts/grafana"),
    ]


async def _ack_time(w, starts) -> float:  # type: ignore[no-untyped-def]
    object.__setattr__(w.services.settings, "alerts_token", SecretStr(TOKEN))
    app = build_web_app(w.services)
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
        desk = desk_for(w.services)
        await runner.cleanup()
        if desk is not None:
            await desk.settle()
