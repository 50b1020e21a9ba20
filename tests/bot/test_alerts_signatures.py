"""The alert webhooks' channel and Grafana's HMAC options (grafana/alerting http/hmac.go): the signature header the
team names (both spellings of Grafana's default otherwise), the optional timestamp header with the signature over
"<timestamp>:<body>", stale timestamps refused; ?channel= takes only channel ids."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from bot.alerts_web import MAX_SKEW_S
from bot.runtime import Runtime
from bot.web import bound_port, start_web
from tests.fakes.slack import FakeSlack
from tests.support.alert_payloads import grafana_webhook
from tests.support.github_world import World, github_world

TOKEN = "alerts-token-signatures-0123"
BODY = json.dumps(grafana_webhook()).encode()


def signed(body: bytes, stamp: str | None = None, secret: str = TOKEN) -> str:
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)
    if stamp is not None:
        mac.update(f"{stamp}:".encode())
    mac.update(body)
    return mac.hexdigest()


@asynccontextmanager
async def alerts_site(tmp: Path) -> AsyncIterator[tuple[World, str, FakeSlack, aiohttp.ClientSession]]:
    async with (
        FakeSlack() as slack,
        github_world(
            tmp,
            SITREP_ALERTS_TOKEN=TOKEN,
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_API_URL=slack.api_url,
            SITREP_HTTP_PORT="0",
        ) as w,
    ):
        runtime = Runtime(w.services)
        runner = await start_web(runtime)
        try:
            async with aiohttp.ClientSession() as http:
                yield w, f"http://127.0.0.1:{bound_port(runner)}", slack, http
            desk, poster = runtime.alert_desk(), runtime.poster()
            assert desk is not None and poster is not None
            assert await desk.settle(30) and await poster.settle(30)  # the investigations of what was accepted
        finally:
            await runner.cleanup()
            await runtime.close()


async def post(http: aiohttp.ClientSession, url: str, headers: dict[str, str], body: bytes = BODY) -> int:
    async with http.post(url, data=body, headers=headers) as response:
        return response.status


@pytest.mark.parametrize("channel", ["D0DIRECTMSG", "C" + "A" * 5000, "U0SOMEONE", "c0lower", "#general"])
async def test_the_channel_query_takes_only_channel_ids(tmp_path: Path, channel: str) -> None:
    async with alerts_site(tmp_path) as (_, base, slack, http):
        async with http.post(
            f"{base}/alerts/grafana",
            params={"channel": channel},
            data=BODY,
            headers={"Authorization": f"Bearer {TOKEN}"},
        ) as response:
            assert response.status == 400
            error = (await response.json())["error"]
        assert "channel id" in error and len(error) < 200
        assert not slack.calls_to("chat.postMessage")


async def test_both_spellings_of_grafanas_default_header_are_accepted(tmp_path: Path) -> None:
    async with alerts_site(tmp_path) as (_, base, _slack, http):
        url = f"{base}/alerts/grafana?channel=C0ALERTS"
        for header in ("X-Grafana-Alerting-Signature", "X-Grafana-Alert-Signature"):
            assert await post(http, url, {header: signed(BODY)}) == 202, header
            assert await post(http, url, {header: signed(BODY, secret="other")}) == 401, header
        assert await post(http, url, {"X-Signature": signed(BODY)}) == 401  # a header nobody configured


async def test_a_configured_header_and_timestamp_are_required_and_stale_ones_refused(tmp_path: Path) -> None:
    async with alerts_site(tmp_path) as (w, base, slack, http):
        await w.services.storage.config.patch(
            "default", {"alerts": {"signature_header": "X-Signature", "timestamp_header": "X-Timestamp"}}, "test"
        )
        url = f"{base}/alerts/grafana?channel=C0ALERTS"
        now = str(int(time.time()))
        stale = str(int(time.time()) - MAX_SKEW_S - 60)
        ahead = str(int(time.time()) + MAX_SKEW_S + 60)
        refused = [
            {"X-Signature": signed(BODY, now)},  # no timestamp
            {"X-Signature": signed(BODY), "X-Timestamp": now},  # signed without the timestamp
            {"X-Signature": signed(BODY, stale), "X-Timestamp": stale},  # a replay, minutes later
            {"X-Signature": signed(BODY, ahead), "X-Timestamp": ahead},
            {"X-Signature": signed(BODY, "x"), "X-Timestamp": "x"},
            {"X-Grafana-Alerting-Signature": signed(BODY, now), "X-Timestamp": now},  # not the header named
        ]
        for headers in refused:
            assert await post(http, url, headers) == 401, headers
        assert not slack.calls_to("chat.postMessage")
        assert await post(http, url, {"X-Signature": signed(BODY, now), "X-Timestamp": now}) == 202


async def test_header_names_are_validated_in_the_config(tmp_path: Path) -> None:
    async with alerts_site(tmp_path) as (w, *_):
        with pytest.raises(Exception, match="HTTP header name"):
            await w.services.storage.config.patch(
                "default", {"alerts": {"timestamp_header": "X Timestamp\r\n"}}, "test"
            )
