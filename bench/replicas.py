"""Replicas: mentions answered per second by one `python app.py` vs two on one PostgreSQL, and the latency
PostgreSQL adds over SQLite on one replica.

Real processes against the local Slack and a fast fake Grafana; the rule-based planner (no Anthropic key), so the
work per mention is sitrep's own: ledger, dispatch, one Loki query, the answer record, the post.
- Latency: mentions one after another (each waits for its answer), push -> answer posted; p50 and p99.
- Throughput: a burst of mentions spread over the replicas' Socket Mode connections, each also retried (on the
  other connection when there are two) as a Slack retry would be; mentions / (first push -> last answer).
The numbers are this machine's: ratios from one run, both sides measured the same way.
"""

from __future__ import annotations

import asyncio
import math
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

from bench import Row
from tests.fakes.grafana import FakeGrafana
from tests.fakes.slack import FakeSlack
from tests.support.environment import ROOT, subprocess_env
from tests.support.pg_server import PgServer

MENTIONS = 150
SEQUENTIAL = 60
QUESTION = "what's the error rate?"


@dataclass
class Result:
    label: str
    per_second: float
    p50_ms: float
    p99_ms: float
    answers_per_mention: set[int]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


async def run(label: str, db: str, replicas: int) -> Result:
    async with FakeSlack() as slack, FakeGrafana() as grafana:
        grafana.add_logs({"source": "lambda"}, ["error: upstream timed out", "GET /api 200", "GET /api 200"])
        env = {
            "SITREP_DB": db,
            "SITREP_SECRET_KEY": Fernet.generate_key().decode(),
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_APP_TOKEN": slack.app_token,
            "SLACK_API_URL": slack.api_url,
            "GRAFANA_URL": grafana.url,
            "GRAFANA_TOKEN": grafana.token,
            "SITREP_HTTP_PORT": "0",
        }
        procs = []
        try:
            for count in range(1, replicas + 1):
                procs.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable,
                        str(ROOT / "app.py"),
                        env=subprocess_env(env),
                        stdin=asyncio.subprocess.DEVNULL,
                        stdout=asyncio.subprocess.DEVNULL,
                        stderr=asyncio.subprocess.DEVNULL,
                    )
                )
                await slack.wait_connected(timeout=60, count=count)
            warm = slack.message_event("help")  # first answers load what loads lazily; not measured
            await slack.send_event(warm)
            await slack.wait_for_call("chat.postMessage", lambda c: c.args.get("thread_ts") == warm["ts"], timeout=30)
            latencies = []
            for i in range(SEQUENTIAL):
                event = slack.message_event(QUESTION)
                envelope = await slack.send_event(event, event_id=f"EvS{i:04d}", connection=i % replicas)
                call = await slack.wait_for_call(
                    "chat.postMessage", lambda c, ts=event["ts"]: c.args.get("thread_ts") == ts, timeout=30
                )
                latencies.append((call.at - slack.sent_at[envelope]) * 1000)
            events, envelopes = [], []
            for i in range(MENTIONS):
                event = slack.message_event(QUESTION)
                body = slack.event_envelope(event, event_id=f"EvB{i:04d}")
                envelopes.append(await slack.send_envelope("events_api", body, connection=i % replicas))
                await slack.send_envelope("events_api", body, connection=(i + 1) % replicas, retry_attempt=1)
                events.append(event)
            for event in events:
                await slack.wait_for_call(
                    "chat.postMessage", lambda c, ts=event["ts"]: c.args.get("thread_ts") == ts, timeout=120
                )
            first = min(slack.sent_at[e] for e in envelopes)
            last = max(c.at for c in slack.calls_to("chat.postMessage"))
        finally:
            for proc in procs:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:
                await asyncio.wait_for(proc.wait(), 15)
        posts = [c.args.get("thread_ts") for c in slack.calls_to("chat.postMessage")]
        counts = {posts.count(e["ts"]) for e in events}
    return Result(label, MENTIONS / (last - first), percentile(latencies, 0.5), percentile(latencies, 0.99), counts)


async def measure() -> list[Result]:
    server = await asyncio.to_thread(PgServer)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            results = []
            for label, replicas, backend in (
                ("SQLite, 1 replica", 1, "sqlite"),
                ("PostgreSQL, 1 replica", 1, "pg"),
                ("PostgreSQL, 2 replicas", 2, "pg"),
            ):
                if backend == "sqlite":
                    results.append(await run(label, str(Path(tmp) / "bench.db"), replicas))
                else:
                    async with server.database() as url:
                        results.append(await run(label, url, replicas))
    finally:
        await asyncio.to_thread(server.stop)
    return results


async def rows() -> list[Row]:
    results = await measure()
    sqlite, pg1, pg2 = results
    out = [
        Row(f"{r.label}: mentions/s (burst of {MENTIONS}); p50, p99 one at a time", f"{r.per_second:.1f}/s",
            note=f"p50 {r.p50_ms:.0f} ms, p99 {r.p99_ms:.0f} ms")
        for r in results
    ]  # fmt: skip
    out.append(Row("two replicas / one on PostgreSQL, mentions/s", f"{pg2.per_second / pg1.per_second:.2f}×",
                   note="this machine's cores are shared: two processes gain only with a free core"))  # fmt: skip
    out.append(Row("p99 PostgreSQL adds over SQLite, one replica", f"{pg1.p99_ms - sqlite.p99_ms:+.0f} ms",
                   note=f"{pg1.p99_ms / sqlite.p99_ms:.2f}× SQLite's p99"))  # fmt: skip
    once = all(r.answers_per_mention == {1} for r in results)
    out.append(Row("every mention answered exactly once (retries on the other replica)", "yes" if once else "no",
                   "yes", once))  # fmt: skip
    return out
