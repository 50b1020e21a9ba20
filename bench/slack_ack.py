"""Slack acks: how long a mention's envelope waits for its ack while the answer is still being worked on.

The real app (`bot.slack.run.serve`) is served in-process against the local Slack, with Grafana delayed by 1 s
so every answer is slow. Ten mentions go out one after another; each envelope's push → ack time is measured
by the fake. Slack's limit is 3 s; sitrep's target is 100 ms (ack first, then work).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

from agent.services import Services
from bench import Row, ratio_row
from bot.runtime import Runtime
from bot.slack.run import serve
from settings import Settings
from skills.registry import default_factories
from storage.services import open_storage
from tests.fakes.grafana import FakeGrafana
from tests.fakes.slack import FakeSlack

MENTIONS = 10
TARGET_S = 0.100
DELAY_S = 1.0


async def rows() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeSlack() as slack, FakeGrafana() as grafana:
            grafana.add_logs({"source": "lambda"}, ["error: upstream timed out", "GET /api 200"])
            grafana.delay = DELAY_S
            settings = Settings.from_env(
                {
                    "SITREP_DB": str(Path(tmp) / "bench.db"),
                    "SITREP_SECRET_KEY": Fernet.generate_key().decode(),
                    "SLACK_BOT_TOKEN": slack.bot_token,
                    "SLACK_APP_TOKEN": slack.app_token,
                    "SLACK_API_URL": slack.api_url,
                    "GRAFANA_URL": grafana.url,
                    "GRAFANA_TOKEN": grafana.token,
                }
            )
            services = Services(settings, await open_storage(settings), skill_factories=default_factories())
            stop = asyncio.Event()
            task = asyncio.create_task(serve(Runtime(services), stop=stop))
            try:
                await slack.wait_connected(timeout=10)
                latencies, answers = [], []
                for _ in range(MENTIONS):
                    mark = len(slack.calls)
                    sent = time.monotonic()
                    envelope = await slack.send_event(slack.message_event("what's the error rate?"))
                    await slack.wait_ack(envelope)
                    latencies.append(slack.ack_latency[envelope])
                    post = await slack.wait_for_call("chat.postMessage", since=mark, timeout=30)
                    answers.append(post.at - sent)
            finally:
                stop.set()
                await asyncio.wait_for(task, 10)
                await services.close()
    worst, median = max(latencies), statistics.median(latencies)
    answer = statistics.median(answers)
    return [
        ratio_row(
            f"slowest ack while its answer waits on a slow Grafana ({MENTIONS} mentions)",
            worst * 1000,
            TARGET_S * 1000,
            f"median ack {median * 1000:.1f} ms; median answer {answer:.2f} s",
            unit=" ms",
        )
    ]
