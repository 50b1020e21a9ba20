"""Report triggers through the local Slack: `/sitrep report`, the Home tab button, and the scheduler's run_job."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from agent.services import Services
from bot.blocks.home import home_view
from bot.blocks.limits import violations
from bot.readiness import readiness_table
from bot.runtime import Runtime
from bot.slack.report import WORKING, poster_of
from bot.slack.run import serve
from reports.post import NO_CHANNEL, NO_TOKEN, run_scheduled_report
from reports.readiness import RUN_NOW_ACTION, RUN_NOW_STEP, reports_readiness
from reports.render import num
from reports.scheduler import ReportScheduler
from settings import Settings
from storage.jobs import MORNING_REPORT, Job
from storage.services import open_storage
from tests.fakes.amplitude import FakeAmplitude
from tests.fakes.grafana import FakeGrafana
from tests.fakes.slack import FakeSlack, SlackCall
from tests.support import report_data as rd

REPORT_CHANNEL = "C0REPORT"
PRIVATE = "G0SECRET"  # a private channel sitrep was never invited to


def scheduled(services: Services) -> Callable[[Job, datetime], Awaitable[str]]:
    """The scheduler's run_job as bot/background.py wires it: through a Runtime's poster."""
    runtime = Runtime(services)
    return lambda job, slot: run_scheduled_report(services, job, slot, poster=poster_of(runtime))


@dataclass
class World:
    slack: FakeSlack
    grafana: FakeGrafana
    amp: FakeAmplitude
    env: dict[str, str]

    async def services(self, **extra: str) -> Services:
        settings = Settings.from_env({**self.env, **rd.fake_env(self.grafana, self.amp), **extra})
        return Services(settings=settings, storage=await open_storage(settings), skill_factories=rd.report_factories())


@pytest.fixture
async def world(env: dict[str, str]) -> AsyncIterator[World]:
    async with (
        FakeSlack(channels={"C999": {"is_member": False}, PRIVATE: {"is_member": False, "is_private": True}}) as slack,
        FakeGrafana() as grafana,
        FakeAmplitude() as amp,
    ):
        tokens = {
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_APP_TOKEN": slack.app_token,
            "SLACK_API_URL": slack.api_url,
        }
        yield World(slack, grafana, amp, {**env, **tokens})


@pytest.fixture
async def serving(world: World) -> AsyncIterator[Callable[..., Awaitable[Services]]]:
    """Start the app in-process (the same `serve` as app.py) with the given extra settings."""
    running: list[tuple[asyncio.Event, asyncio.Task, Services]] = []

    async def start(**extra: str) -> Services:
        services = await world.services(**extra)
        stop = asyncio.Event()
        task = asyncio.create_task(serve(Runtime(services), stop=stop))
        running.append((stop, task, services))
        await world.slack.wait_connected()
        return services

    yield start
    for stop, task, services in running:
        stop.set()
        await asyncio.wait_for(task, 5)
        await services.close()


def text_of(call: SlackCall) -> str:
    blocks = call.args.get("blocks") or []
    parts = [(b.get("text") or {}).get("text", "") for b in blocks]
    parts += [e.get("text", "") for b in blocks for e in b.get("elements") or [] if isinstance(e, dict)]
    return call.args.get("text", "") + "\n" + "\n".join(parts)


async def posted_to(slack: FakeSlack, channel: str, timeout: float = 15.0) -> SlackCall:
    return await slack.wait_for_call("chat.postMessage", lambda c: c.args.get("channel") == channel, timeout)


async def test_slash_report_posts_real_figures_to_the_current_channel(world: World, serving) -> None:
    logs, _, agents = rd.seed_all(world.grafana, world.amp, datetime.now(UTC))
    await serving()
    ack = await world.slack.wait_ack(await world.slack.send_slash_command("/sitrep", "report", channel_id="C777"))
    assert ack["payload"]["text"] == WORKING
    call = await posted_to(world.slack, "C777")
    assert call.error is None and violations(call.args["blocks"]) == []
    body = text_of(call)
    assert "*Grafana*" in body and "*Amplitude*" in body
    assert f"*5xx responses*: *{logs.current(logs.timeouts)}*" in body
    assert f"*Requests*: *{num(logs.current(logs.requests))}*" in body
    assert f"*Agent Started*: *{num(agents.current(agents.started))}*" in body
    assert f"*Agent Failed*: *{num(agents.current(agents.failed_total))}*" in body
    assert world.slack.messages["C777"][-1]["ts"]


async def test_slash_report_still_posts_when_grafana_and_amplitude_fail(world: World, serving) -> None:
    world.grafana.fail_next(500, times=1000, headers={"Retry-After": "0"})
    world.amp.inject_429(times=1000, retry_after="0")
    await serving()
    await world.slack.wait_ack(await world.slack.send_slash_command("/sitrep", "report", channel_id="C777"))
    body = text_of(await posted_to(world.slack, "C777"))
    failed_lines = [line for line in body.splitlines() if line.startswith(":red_circle:")]
    assert len(failed_lines) == 2
    assert "*Grafana* failed:" in failed_lines[0] and "(500)" in failed_lines[0]
    assert "*Amplitude* failed:" in failed_lines[1] and "rate limit" in failed_lines[1]


async def test_slash_report_in_a_public_channel_sitrep_is_not_in_joins_it_and_posts(world: World, serving) -> None:
    await serving()
    await world.slack.wait_ack(await world.slack.send_slash_command("/sitrep", "report", channel_id="C999"))
    call = await posted_to(world.slack, "C999")
    assert call.error is None
    joins = world.slack.calls_to("conversations.join")
    assert [j.args["channel"] for j in joins] == ["C999"] and joins[0].at < call.at


async def test_slash_report_in_a_private_channel_says_to_invite_sitrep(world: World, serving) -> None:
    await serving()
    await world.slack.wait_ack(await world.slack.send_slash_command("/sitrep", "report", channel_id=PRIVATE))
    reply = await world.slack.wait_for_call("response_url", lambda c: "invite" in c.args.get("text", ""), timeout=15)
    assert "`/invite @sitrep`" in reply.args["text"] and reply.args["response_type"] == "ephemeral"
    assert not [c for c in world.slack.calls_to("chat.postMessage") if c.args.get("channel") == PRIVATE]


async def test_run_report_now_to_a_private_channel_tells_the_user_by_dm(world: World, serving) -> None:
    await serving(SITREP_REPORT_CHANNEL=PRIVATE)
    await run_now(world.slack)
    note = await posted_to(world.slack, "U123")
    assert "`/invite @sitrep`" in note.args["text"] and f"<#{PRIVATE}>" in note.args["text"]
    assert all(c.args.get("channel") != PRIVATE for c in world.slack.calls_to("chat.postMessage"))


async def test_a_scheduled_run_to_a_channel_sitrep_cannot_post_in_records_why(world: World) -> None:
    services = await world.services(SITREP_REPORT_CHANNEL=PRIVATE)
    try:
        job = next(j for j in await services.storage.jobs.list() if j.name == MORNING_REPORT)
        scheduler = ReportScheduler(services.storage.jobs, scheduled(services))
        slot = datetime(2026, 2, 17, 16, tzinfo=UTC)
        assert await scheduler.fire(job, slot) == "failed"
        run = await services.storage.jobs.run_for(job.id, slot)
        assert run is not None and "/invite @sitrep" in (run.error or "")
    finally:
        await services.close()


async def test_a_scheduled_run_joins_a_public_report_channel(world: World) -> None:
    services = await world.services(SITREP_REPORT_CHANNEL="C999")
    try:
        job = next(j for j in await services.storage.jobs.list() if j.name == MORNING_REPORT)
        scheduler = ReportScheduler(services.storage.jobs, scheduled(services))
        assert await scheduler.fire(job, datetime(2026, 2, 17, 16, tzinfo=UTC)) == "posted"
        assert world.slack.messages["C999"] and world.slack.calls_to("conversations.join")
    finally:
        await services.close()


async def test_the_reports_row_is_blocked_when_sitrep_cannot_post_in_the_report_channel(world: World) -> None:
    services = await world.services(SITREP_REPORT_CHANNEL=PRIVATE)
    try:
        team = await services.team_for(None)
        rows = {row.integration: row for row in await readiness_table(Runtime(services), team)}
        row = rows["Scheduled reports"]
        assert not row.ready and PRIVATE in row.missing and "/invite @sitrep" in row.next_step
    finally:
        await services.close()


async def run_now(slack: FakeSlack, user: str = "U123") -> None:
    await slack.send_interactive(
        {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": slack.team_id},
            "actions": [{"action_id": RUN_NOW_ACTION, "type": "button", "value": "Scheduled reports"}],
            "view": {"id": "V1", "type": "home"},
            "container": {"type": "view", "view_id": "V1"},
        }
    )


async def test_run_report_now_posts_to_the_report_channel_and_tells_the_user(world: World, serving) -> None:
    rd.seed_all(world.grafana, world.amp, datetime.now(UTC))
    await serving(SITREP_REPORT_CHANNEL=REPORT_CHANNEL)
    await run_now(world.slack)
    report = await posted_to(world.slack, REPORT_CHANNEL)
    assert "*5xx responses*" in text_of(report)
    note = await posted_to(world.slack, "U123")
    assert note.args["text"] == f"Posted the status report in <#{REPORT_CHANNEL}>."


async def test_run_report_now_builds_one_report_per_channel_at_a_time_and_each_person_waits_a_little(
    world: World, serving
) -> None:
    rd.seed_all(world.grafana, world.amp, datetime.now(UTC))
    await serving(SITREP_REPORT_CHANNEL=REPORT_CHANNEL)
    world.grafana.hold = asyncio.Event()  # the first report waits on Grafana while the others press
    asked = asyncio.Event()
    world.grafana.on_request = lambda _: asked.set()
    await run_now(world.slack, "U123")
    await asyncio.wait_for(asked.wait(), 15)
    for user in ("U456", "U123"):  # someone else, and the same person again, while it is being built
        await run_now(world.slack, user)
        note = await posted_to(world.slack, user)
        assert f"already being built for <#{REPORT_CHANNEL}>" in note.args["text"], note.args["text"]
    world.grafana.hold.set()
    done = await world.slack.wait_for_call(
        "chat.postMessage", lambda c: c.args.get("channel") == "U123" and "Posted" in c.args.get("text", ""), 30
    )
    assert done.args["text"] == f"Posted the status report in <#{REPORT_CHANNEL}>."
    seen = len(world.slack.calls)
    await run_now(world.slack, "U123")  # right after their report: asked to wait
    wait = await world.slack.wait_for_call("chat.postMessage", lambda c: c.args.get("channel") == "U123", since=seen)
    assert "You ran a report" in wait.args["text"] and "again in" in wait.args["text"]
    assert len([c for c in world.slack.calls_to("chat.postMessage") if c.args.get("channel") == REPORT_CHANNEL]) == 1


async def test_run_report_now_without_a_channel_says_how_to_set_one(world: World, serving) -> None:
    await serving()
    await run_now(world.slack)
    note = await posted_to(world.slack, "U123")
    assert NO_CHANNEL in note.args["text"]
    assert len(world.slack.calls_to("chat.postMessage")) == 1


async def test_a_scheduled_run_posts_and_records_the_message_ts(world: World) -> None:
    rd.seed_all(world.grafana, world.amp, datetime.now(UTC))
    services = await world.services(SITREP_REPORT_CHANNEL=REPORT_CHANNEL)
    try:
        job = next(j for j in await services.storage.jobs.list() if j.name == MORNING_REPORT)
        assert job.enabled and job.channel == REPORT_CHANNEL
        scheduler = ReportScheduler(services.storage.jobs, scheduled(services))
        slot = datetime(2026, 2, 17, 16, tzinfo=UTC)  # 08:00 PST
        assert await scheduler.fire(job, slot) == "posted"
        run = await services.storage.jobs.run_for(job.id, slot)
        message = world.slack.messages[REPORT_CHANNEL][-1]
        assert run is not None and run.status == "posted" and run.error is None
        assert run.message_ts == message["ts"]
        assert message["blocks"][0]["text"]["text"] == "sitrep · Morning report"
        assert "scheduled for 08:00 PST" in message["blocks"][1]["elements"][0]["text"]
        assert await scheduler.fire(job, slot) is None  # the slot is claimed: never posted twice
        assert len(world.slack.messages[REPORT_CHANNEL]) == 1
    finally:
        await services.close()


async def test_a_scheduled_run_that_cannot_post_records_why(world: World) -> None:
    env = {k: v for k, v in world.env.items() if k != "SLACK_BOT_TOKEN"}
    settings = Settings.from_env({**env, "SITREP_REPORT_CHANNEL": REPORT_CHANNEL})
    services = Services(settings=settings, storage=await open_storage(settings), skill_factories=[])
    try:
        job = next(j for j in await services.storage.jobs.list() if j.name == MORNING_REPORT)
        scheduler = ReportScheduler(services.storage.jobs, scheduled(services))
        slot = datetime(2026, 2, 17, 16, tzinfo=UTC)
        assert await scheduler.fire(job, slot) == "failed"
        run = await services.storage.jobs.run_for(job.id, slot)
        assert run is not None and run.status == "failed" and NO_TOKEN in (run.error or "")
    finally:
        await services.close()


async def test_the_ready_reports_row_offers_the_run_now_button(world: World) -> None:
    services = await world.services(SITREP_REPORT_CHANNEL=REPORT_CHANNEL)
    scheduler = ReportScheduler(services.storage.jobs, scheduled(services))
    await scheduler.start(catch_up=False)
    try:
        team = await services.team_for(None)
        row = await reports_readiness(services.storage.jobs, team, services.settings, scheduler)
        assert row.ready and row.actions == (RUN_NOW_ACTION,) and row.next_step == RUN_NOW_STEP
        view = home_view([row], generated_at=datetime.now(UTC))
        buttons = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
        assert any(b["action_id"] == RUN_NOW_ACTION and b["text"]["text"] == "Run report now" for b in buttons)
    finally:
        await scheduler.shutdown()
        await services.close()
