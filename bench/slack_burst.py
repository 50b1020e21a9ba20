"""100 mentions at once: sitrep's acks against a bare Bolt AsyncApp's, and every mention answered exactly once.

Both apps are served in this process against the local Slack (tests/fakes/slack.py), which times each envelope
from push to ack. The bare app is slack_bolt's AsyncApp with one app_mention listener that replies in the thread:
the floor any Bolt app over Socket Mode pays. sitrep answers each mention with the rule-based planner over the
local Grafana and Amplitude (no model key). The ratios are sitrep's p50 and p99 ack over the bare app's.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp, AsyncSay

from bench import Row, ratio_row
from bot.slack_client import web_client
from tests.fakes.slack import FakeSlack
from tests.support.agent_world import world

MENTIONS = 100
QUESTION = "what's the error rate?"
TARGET_RATIO = 1.5
ANSWER_TIMEOUT_S = 120.0


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def burst(slack: FakeSlack, n: int) -> tuple[list[float], list[str]]:
    """n mentions pushed at once; their ack latencies and their ts (the thread each answer must land in)."""
    events = [slack.message_event(f"{QUESTION} #{i}") for i in range(n)]
    envelopes = await asyncio.gather(*(slack.send_event(e) for e in events))
    await asyncio.gather(*(slack.wait_ack(e, timeout=30) for e in envelopes))
    return [slack.ack_latency[e] for e in envelopes], [e["ts"] for e in events]


async def answers_per_thread(slack: FakeSlack, threads: list[str]) -> dict[str, int]:
    """Wait until every thread has an answer (or the timeout), then a moment for duplicates to land."""

    async def one(ts: str) -> None:
        with contextlib.suppress(TimeoutError):
            await slack.wait_for_call(
                "chat.postMessage", lambda c: c.args.get("thread_ts") == ts, timeout=ANSWER_TIMEOUT_S
            )

    await asyncio.gather(*(one(ts) for ts in threads))
    counts = dict.fromkeys(threads, 0)
    for call in slack.calls_to("chat.postMessage"):
        ts = call.args.get("thread_ts")
        if ts in counts:
            counts[ts] += 1
    return counts


async def recorded(db: Any, n: int, timeout: float = 10.0) -> None:
    """Until n answers have their Slack message ts stored (the last step of answering), so shutdown cuts nothing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = await db.fetchone("SELECT COUNT(*) AS n FROM answers WHERE message_ts IS NOT NULL")
        if row and row["n"] >= n:
            return
        await asyncio.sleep(0.05)


async def bare_bolt() -> list[float]:
    async with FakeSlack() as slack:
        client = web_client(slack.bot_token, slack.api_url)
        app = AsyncApp(client=client, request_verification_enabled=False)

        @app.event("app_mention")
        async def reply(event: dict, say: AsyncSay) -> None:
            await say(text="ok", thread_ts=event["ts"])

        handler = AsyncSocketModeHandler(app, slack.app_token)
        opened = await client.apps_connections_open(app_token=slack.app_token)
        handler.client.wss_uri = opened["url"]
        await handler.connect_async()
        try:
            await slack.wait_connected()
            latencies, threads = await burst(slack, MENTIONS)
            await answers_per_thread(slack, threads)
        finally:
            await handler.close_async()
    return latencies


async def sitrep() -> tuple[list[float], dict[str, int]]:
    with tempfile.TemporaryDirectory() as tmp:
        async with world(Path(tmp), key=False) as w:
            latencies, threads = await burst(w.slack, MENTIONS)
            counts = await answers_per_thread(w.slack, threads)
            await recorded(w.services.storage.db, MENTIONS)
    return latencies, counts


async def rows() -> list[Row]:
    bare = await bare_bolt()
    ours, counts = await sitrep()
    p50, p99 = statistics.median(ours), quantile(ours, 0.99)
    b50, b99 = statistics.median(bare), quantile(bare, 0.99)
    lost = sum(1 for n in counts.values() if n == 0)
    twice = sum(1 for n in counts.values() if n > 1)
    note = f"sitrep {p50 * 1000:.1f} / bare Bolt {b50 * 1000:.1f} ms"
    return [
        ratio_row(f"ack p50 under {MENTIONS} simultaneous mentions / bare Bolt", p50 / b50, TARGET_RATIO, note),
        ratio_row(
            f"ack p99 under {MENTIONS} simultaneous mentions / bare Bolt",
            p99 / b99,
            TARGET_RATIO,
            f"sitrep {p99 * 1000:.1f} / bare Bolt {b99 * 1000:.1f} ms",
        ),
        Row(
            f"mentions lost / answered twice (of {MENTIONS})",
            f"{lost} / {twice}",
            "0 / 0",
            lost == 0 and twice == 0,
        ),
    ]
