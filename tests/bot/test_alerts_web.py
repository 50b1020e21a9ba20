"""POST /alerts/grafana and /alerts/alertmanager over a real socket: token or HMAC before parsing, 400 on bodies
sitrep cannot read, 202 once every alert is in the store, then the investigation posted in Slack."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.runtime import Runtime
from bot.web import build_web_app
from tests.fakes.slack import FakeSlack
from tests.support.alert_payloads import alertmanager_webhook, grafana_webhook
from tests.support.github_world import github_world

TOKEN = "alerts-token-0123456789"


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, auto_decompress=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


async def test_alert_webhooks(tmp_path: Path) -> None:
    async with (
        FakeSlack() as slack,
        github_world(
            tmp_path, SITREP_ALERTS_TOKEN=TOKEN, SLACK_BOT_TOKEN=slack.bot_token, SLACK_API_URL=slack.api_url
        ) as w,
    ):
        runtime = Runtime(w.services)
        app = build_web_app(runtime)
        runner, base = await _serve(app)
        body = json.dumps(grafana_webhook()).encode()
        try:
            async with aiohttp.ClientSession() as http:
                url = f"{base}/alerts/grafana?channel=C0ALERTS"
                for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-Grafana-Alerting-Signature": "00"}):
                    async with http.post(url, data=body, headers=headers) as r:
                        assert r.status == 401
                auth = {"Authorization": f"Bearer {TOKEN}"}
                async with http.post(url, data=b"{not json", headers=auth) as r:
                    assert r.status == 400 and "not JSON" in (await r.json())["error"]
                async with http.post(url, data=b'{"hello": 1}', headers=auth) as r:
                    assert r.status == 400 and "hello" in (await r.json())["error"]  # what it could read
                async with http.post(f"{base}/alerts/grafana", data=body, headers=auth) as r:
                    assert r.status == 400 and "channel" in (await r.json())["error"]
                assert not slack.calls_to("chat.postMessage")  # nothing refused was acted on

                async def chunks():
                    for i in range(0, len(body), 100):
                        yield body[i : i + 100]

                signature = hmac.new(TOKEN.encode(), body, hashlib.sha256).hexdigest()
                async with http.post(url, data=chunks(), headers={"X-Grafana-Alerting-Signature": signature}) as r:
                    assert r.status == 202
                accepted = await w.services.storage.db.fetchall("SELECT alert, post_id FROM alert_investigations")
                assert len(accepted) == 1 and "High error rate" in accepted[0]["alert"]  # durable before the 202
                assert accepted[0]["post_id"] is not None  # and sitrep's post of it handed to the poster
                am = json.dumps(alertmanager_webhook()).encode()
                async with http.post(f"{base}/alerts/alertmanager?channel=C0ALERTS", data=am, headers=auth) as r:
                    assert r.status == 202
            desk, poster = runtime.alert_desk(), runtime.poster()
            assert desk is not None and poster is not None
            assert await desk.settle(30) and await poster.settle(30)
            posts = slack.calls_to("chat.postMessage")
            assert len(posts) == 4  # each alert, then its investigation in the thread
            threads = {p.args.get("thread_ts") for p in posts if p.args.get("thread_ts")}
            assert len(threads) == 2
        finally:
            await runner.cleanup()
            await runtime.close()
