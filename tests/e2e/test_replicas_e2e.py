"""Two `python app.py` processes on one PostgreSQL and one local Slack that hands each event to one connection and
its retry to the other: 100 mentions get exactly 100 answers, none twice, and a scheduled slot posts once; with a
replica killed (SIGKILL) in the middle of the burst, still exactly 100 answers; with the replica running a
scheduled report killed mid-report, the other takes the run over and posts it once; a report moved through one
replica's admin API posts once, at the new time, from whichever replica. Each both on PostgreSQL directly and
through PgBouncer in transaction mode (two server connections shared by both replicas' pools)."""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.fernet import Fernet

from settings import Settings
from storage.db import Database
from storage.jobs import MORNING_REPORT, slot_key
from storage.services import open_storage
from tests.e2e.test_slack_e2e import start_app, stop_app
from tests.fakes.slack import FakeSlack
from tests.support.app_process import AppProcess
from tests.support.environment import PGBOUNCER
from tests.support.holding_grafana import HoldingGrafana
from tests.support.pg_server import PgBouncer, PgServer

pytestmark = pytest.mark.e2e  # starts processes

MENTIONS = 100
REPORTS = "C0REPORTS"


@pytest.fixture(params=["postgresql", PGBOUNCER])
async def pg_url(pg_server: PgServer, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    if request.param == PGBOUNCER:
        bouncer: PgBouncer = request.getfixturevalue("pg_bouncer")
        async with bouncer.database() as url:
            yield url
        return
    async with pg_server.database() as url:
        yield url


def replica_env(url: str) -> dict[str, str]:
    return {
        "SITREP_DB": url,
        "SITREP_SECRET_KEY": Fernet.generate_key().decode(),
        "SITREP_REPORT_CHANNEL": REPORTS,
        "SITREP_TIMEZONE": "UTC",
        "SITREP_HEARTBEAT_SECONDS": "1",
    }


async def schedule_one_slot(env: dict[str, str], lead: timedelta) -> datetime:
    """The Morning report at the first whole minute at least `lead` from now (UTC); the Evening report off."""
    storage = await open_storage(Settings.from_env(env))
    try:
        slot = (datetime.now(UTC) + lead + timedelta(minutes=1)).replace(second=0, microsecond=0)
        async with storage.db.transaction() as conn:
            await conn.execute(
                "UPDATE scheduled_jobs SET cron = ?, enabled = CASE WHEN name = ? THEN 1 ELSE 0 END",
                (f"{slot.minute} {slot.hour} * * *", MORNING_REPORT),
            )
    finally:
        await storage.close()
    return slot


async def deliver(slack: FakeSlack, body: dict, connection: int, *, retry: bool = False) -> str | None:
    """Hand the envelope to one connection; if that one just died, to another, as Slack would."""
    kwargs = {"retry_attempt": 1, "retry_reason": "timeout"} if retry else {}
    for attempt in range(2):
        try:
            return await slack.send_envelope("events_api", body, connection=connection + attempt, **kwargs)
        except (ConnectionError, RuntimeError):
            continue
    return None


async def burst(slack: FakeSlack, *, kill_after: int | None = None, victim: asyncio.subprocess.Process | None = None):
    """MENTIONS mentions; mention i goes to connection i % 2 and its retry to the other one."""
    events = []
    for i in range(MENTIONS):
        if kill_after is not None and i == kill_after and victim is not None:
            victim.send_signal(signal.SIGKILL)
        event = slack.message_event("help", channel="C123")  # answered at once: what is measured is sitrep
        body = slack.event_envelope(event, event_id=f"Ev{i:03d}")
        await deliver(slack, body, i % 2)
        await deliver(slack, body, (i + 1) % 2, retry=True)
        events.append(event)
    return events


async def all_answered(slack: FakeSlack, events: list[dict], db: Database, timeout: float) -> None:
    """Each mention's answer has arrived, and none is left for a replica to adopt (so none can come again)."""
    for event in events:
        await slack.wait_for_call(
            "chat.postMessage", lambda c, ts=event["ts"]: c.args.get("thread_ts") == ts, timeout=timeout
        )
    open_events = await db.fetchone("SELECT COUNT(*) AS n FROM slack_events WHERE status = 'received'")
    recorded = await db.fetchone("SELECT COUNT(*) AS n FROM slack_events WHERE event_id LIKE 'Ev%'")
    assert (open_events["n"], recorded["n"]) == (0, MENTIONS)


def answers_per_mention(slack: FakeSlack, events: list[dict]) -> list[int]:
    posts = [c.args.get("thread_ts") for c in slack.calls_to("chat.postMessage")]
    return [posts.count(e["ts"]) for e in events]


async def two_replicas(slack: FakeSlack, env: dict[str, str]) -> list[asyncio.subprocess.Process]:
    procs = []
    for count in (1, 2):
        procs.append(await start_app(env, slack))
        await slack.wait_connected(timeout=30, count=count)  # connection 0 is the first replica
    return procs


async def test_two_replicas_answer_each_mention_once_and_post_the_slot_once(pg_url: str) -> None:
    env = replica_env(pg_url)
    slot = await schedule_one_slot(env, lead=timedelta(seconds=25))
    async with FakeSlack() as slack:
        procs = await two_replicas(slack, env)
        db = await Database.open(pg_url)
        try:
            events = await burst(slack)
            await all_answered(slack, events, db, timeout=60)
            live = await db.fetchone("SELECT COUNT(*) AS n FROM replicas")
            wait = (slot - datetime.now(UTC)).total_seconds() + 30
            await slack.wait_for_call("chat.postMessage", lambda c: c.args["channel"] == REPORTS, timeout=wait)
        finally:
            results = [await stop_app(p) for p in procs]  # a stop lets the run record its outcome
        try:
            runs = await db.fetchall(
                "SELECT status, message_ts FROM job_runs WHERE scheduled_for = ?", (slot_key(slot),)
            )
        finally:
            await db.close()
        assert answers_per_mention(slack, events) == [1] * MENTIONS
        assert [c.args["channel"] for c in slack.calls_to("chat.postMessage")].count(REPORTS) == 1
        assert [r["status"] for r in runs] == ["posted"] and runs[0]["message_ts"]
        assert live["n"] == 2
    for code, err in results:
        assert code == 0 and "Traceback" not in err, err


async def test_a_replica_killed_mid_burst_leaves_no_mention_unanswered_or_answered_twice(pg_url: str) -> None:
    env = replica_env(pg_url)
    async with FakeSlack() as slack:
        first, second = await two_replicas(slack, env)
        db = await Database.open(pg_url)
        try:
            events = await burst(slack, kill_after=MENTIONS // 2, victim=second)
            await all_answered(slack, events, db, timeout=60)
            assert await second.wait() == -signal.SIGKILL
        finally:
            await db.close()
            code, err = await stop_app(first)
        assert answers_per_mention(slack, events) == [1] * MENTIONS
    assert code == 0 and "Traceback" not in err, err


async def test_the_replica_running_a_report_is_killed_and_the_other_takes_the_run_over(pg_url: str) -> None:
    async with FakeSlack() as slack, HoldingGrafana() as grafana:
        env = {
            **replica_env(pg_url),
            "GRAFANA_URL": grafana.url,
            "GRAFANA_TOKEN": grafana.token,
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_APP_TOKEN": slack.app_token,
            "SLACK_API_URL": slack.api_url,
            "SITREP_HTTP_PORT": "0",
        }
        slot = await schedule_one_slot(env, lead=timedelta(seconds=20))
        grafana.holding = True  # the report stops at its first Grafana query: mid-report
        apps = [AppProcess(name, env) for name in ("one", "two")]
        for count, app in enumerate(apps, 1):
            await app.start()
            await slack.wait_connected(timeout=30, count=count)
        db = await Database.open(pg_url)
        try:
            running = f"running {MORNING_REPORT} for {slot_key(slot)}"
            wait = (slot - datetime.now(UTC)).total_seconds() + 30
            waits = [asyncio.ensure_future(app.wait_line(running, timeout=wait)) for app in apps]
            done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            first = next(iter(done))
            first.result()  # a TimeoutError, with the log, when neither replica ran the slot
            victim = apps[waits.index(first)]
            survivor = apps[1 - apps.index(victim)]
            await asyncio.wait_for(grafana.arrived.wait(), 20)
            await victim.kill()
            grafana.holding = False
            grafana.released.set()
            await slack.wait_for_call("chat.postMessage", lambda c: c.args["channel"] == REPORTS, timeout=60)
            await survivor.wait_line(rf"posted .* to {REPORTS}", timeout=30)
        except BaseException:
            for app in apps:
                print(f"--- {app.name} ---\n{app.log}")  # shown by pytest with the failure
            raise
        finally:
            grafana.released.set()  # nothing left held, so a stop is not kept waiting
            codes = [await app.stop() for app in apps if not app.exited]  # a stop lets the run record its outcome
        try:
            runs = await db.fetchall(
                "SELECT status, message_ts FROM job_runs WHERE scheduled_for = ?", (slot_key(slot),)
            )
        finally:
            await db.close()
        assert [c.args["channel"] for c in slack.calls_to("chat.postMessage")].count(REPORTS) == 1
        assert [r["status"] for r in runs] == ["posted"] and runs[0]["message_ts"]
        assert codes == [0] and "Traceback" not in survivor.log, survivor.log


async def test_a_report_moved_through_one_replicas_admin_api_posts_once_at_the_new_time(pg_url: str) -> None:
    # Slack's modals save through the same path as the admin API.
    async with FakeSlack() as slack:
        env = {
            **replica_env(pg_url),
            "SITREP_ADMIN_TOKEN": "admin-token-e2e-0001",
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_APP_TOKEN": slack.app_token,
            "SLACK_API_URL": slack.api_url,
            "SITREP_HTTP_PORT": "0",
        }
        old = await schedule_one_slot(env, lead=timedelta(seconds=30))
        new = old + timedelta(minutes=1)
        apps = [AppProcess(name, env) for name in ("one", "two")]
        for count, app in enumerate(apps, 1):
            await app.start()
            await slack.wait_connected(timeout=30, count=count)
        try:
            served = await apps[0].wait_line(r"web server on http://")
            port = re.search(r":(\d+)$", served)
            assert port is not None
            moved = {"reports": {"jobs": [{"name": MORNING_REPORT, "time": f"{new:%H:%M}", "timezone": "UTC"}]}}
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port.group(1)}") as http:
                response = await http.patch(
                    "/api/v1/config/me", json=moved, headers={"Authorization": "Bearer admin-token-e2e-0001"}
                )
            assert response.status_code == 200, response.text
            assert datetime.now(UTC) < old - timedelta(seconds=5), "the move came too late to tell"
            wait = (new - datetime.now(UTC)).total_seconds() + 30
            await slack.wait_for_call("chat.postMessage", lambda c: c.args["channel"] == REPORTS, timeout=wait)
        finally:
            codes = [await app.stop() for app in apps]  # a stop lets the run record its outcome
        db = await Database.open(pg_url)
        try:
            runs = await db.fetchall("SELECT scheduled_for, status FROM job_runs WHERE status <> 'missed'")
        finally:
            await db.close()
        assert [(r["scheduled_for"], r["status"]) for r in runs] == [(slot_key(new), "posted")]
        assert [c.args["channel"] for c in slack.calls_to("chat.postMessage")].count(REPORTS) == 1
        assert codes == [0, 0], "\n\n".join(app.log for app in apps)
