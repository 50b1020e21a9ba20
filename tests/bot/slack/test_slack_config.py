"""Configuring sitrep from Slack, clicked through the local Slack as an admin (and a non-admin) would."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agent.services import Services
from bot.blocks.agent_settings import BUDGET_BLOCK, CODING_BLOCK, MODEL_BLOCK, PROMPT_BLOCK, TYPED_MODEL_BLOCK
from bot.blocks.config_menu import AGENT_ACTION, MENU_SHORTCUT, SCHEDULE_ACTION, TEST_CONNECTIONS_ACTION
from bot.blocks.schedule import (
    ADD_REPORT_ACTION,
    CHANNEL_BLOCK,
    JOB_CHANNEL_BLOCK,
    JOB_TZ_BLOCK,
    SECTIONS_BLOCK,
    THREAD,
    TIME_BLOCK,
    TZ_BLOCK,
    job_block,
)
from bot.runtime import Runtime
from bot.slack.run import serve
from reports.scheduler import ReportScheduler
from settings import Settings
from storage.jobs import EVENING_REPORT, MORNING_REPORT, Job
from storage.services import open_storage
from storage.teams import DEFAULT_TEAM_ID
from tests.fakes.slack import FakeSlack

ADMIN, MEMBER = "UADMIN", "UMEMBER"
REPORT, WEEKLY, SECRET = "C0REPORT", "C0WEEKLY", "G0SECRET"


@dataclass
class World:
    slack: FakeSlack
    services: Services
    scheduler: ReportScheduler

    async def job(self, name: str) -> Job:
        return next(j for j in await self.services.storage.jobs.list(DEFAULT_TEAM_ID) if j.name == name)


@pytest.fixture
async def world(env: dict[str, str]) -> AsyncIterator[World]:
    users = {ADMIN: {"name": "ops-lead", "is_admin": True}, MEMBER: {"name": "dev"}}
    channels = {WEEKLY: {"is_member": False}, SECRET: {"is_member": False, "is_private": True}}
    async with FakeSlack(users=users, channels=channels) as slack:
        settings = Settings.from_env(
            {
                **env,
                "SLACK_BOT_TOKEN": slack.bot_token,
                "SLACK_APP_TOKEN": slack.app_token,
                "SLACK_API_URL": slack.api_url,
                "SITREP_REPORT_CHANNEL": REPORT,
            }
        )
        services = Services(settings=settings, storage=await open_storage(settings))

        async def nothing(job: Job, slot: datetime) -> str | None:
            return None

        scheduler = ReportScheduler(services.storage.jobs, nothing, changes=services.storage.config)
        await scheduler.start(catch_up=False)
        runtime = Runtime(services, scheduler=scheduler)
        stop = asyncio.Event()
        task = asyncio.create_task(serve(runtime, stop=stop))
        try:
            await slack.wait_connected()
            yield World(slack, services, scheduler)
        finally:
            stop.set()
            await asyncio.wait_for(task, 5)
            await scheduler.shutdown()
            await services.close()


def text(view: dict) -> str:
    parts = []
    for block in view.get("blocks", []):
        parts.append((block.get("text") or {}).get("text", ""))
        parts += [e.get("text", "") for e in block.get("elements") or [] if isinstance(e.get("text"), str)]
        buttons = [e for e in block.get("elements") or [] if e.get("type") == "button"]
        parts += [e["text"]["text"] for e in buttons]
    return "\n".join(parts)


def initial_state(view: dict) -> dict[str, dict[str, dict[str, Any]]]:
    """view.state.values as Slack sends them when the user changes nothing."""
    values = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        el, kind = block["element"], block["element"]["type"]
        value: dict[str, Any] = {"type": kind}
        if kind == "timepicker":
            value["selected_time"] = el.get("initial_time")
        elif kind == "conversations_select":
            value["selected_conversation"] = el.get("initial_conversation")
        elif kind in ("plain_text_input", "number_input"):
            value["value"] = el.get("initial_value")
        elif kind == "checkboxes":
            value["selected_options"] = el.get("initial_options") or []
        elif kind == "static_select":
            value["selected_option"] = el.get("initial_option")
        values[block["block_id"]] = {el["action_id"]: value}
    return values


async def press(slack: FakeSlack, user: str, action: str, *, in_view: dict | None = None) -> dict:
    """Press a button (on the Home tab, or in a modal) and return the modal it fills."""
    mark = len(slack.calls)
    view = in_view or {"id": "VHOME", "type": "home"}
    await slack.send_interactive(
        {
            "type": "block_actions",
            "user": {"id": user},
            "actions": [{"action_id": action, "type": "button", "value": action}],
            "view": view,
            "container": {"type": "view", "view_id": view["id"]},
        }
    )
    update = await slack.wait_for_call("views.update", lambda c: "Loading" not in text(c.args["view"]), since=mark)
    assert update.error is None, update.error
    return {**update.args["view"], "id": update.args["view_id"]}


async def submit(slack: FakeSlack, user: str, view: dict, values: dict) -> dict:
    envelope = await slack.send_interactive(
        {"type": "view_submission", "user": {"id": user}, "view": {**view, "state": {"values": values}}}
    )
    return (await slack.wait_ack(envelope))["payload"]


def job_index(view: dict, name: str) -> int:
    return json.loads(view["private_metadata"])["jobs"].index(name)


async def home_of(slack: FakeSlack, user: str, since: int) -> dict:
    call = await slack.wait_for_call("views.publish", lambda c: c.args["user_id"] == user, since=since)
    assert call.error is None, call.error
    return call.args["view"]


async def test_admin_moves_the_evening_report_and_the_scheduler_follows(world: World) -> None:
    evening = await world.job(EVENING_REPORT)
    before = world.scheduler.next_fire_times()[evening.id]
    assert before is not None and before.astimezone(ZoneInfo(evening.timezone)).hour == 20

    modal = await press(world.slack, ADMIN, SCHEDULE_ACTION)
    values = initial_state(modal)
    i = job_index(modal, EVENING_REPORT)
    values[job_block(i, TIME_BLOCK)]["value"]["selected_time"] = "18:30"
    values[job_block(i, JOB_TZ_BLOCK)]["value"]["value"] = "Europe/Berlin"
    mark = len(world.slack.calls)
    ack = await submit(world.slack, ADMIN, modal, values)
    assert ack["response_action"] == "update" and "Saved" in text(ack["view"])

    moved = await world.job(EVENING_REPORT)
    assert (moved.cron, moved.timezone, moved.enabled) == ("30 18 * * *", "Europe/Berlin", True)
    after = world.scheduler.next_fire_times()[evening.id]
    assert after is not None and after != before
    local = after.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.hour, local.minute) == (18, 30)
    assert "Evening report*: next" in text(ack["view"])

    home = await home_of(world.slack, ADMIN, mark)
    body = text(home)
    assert "*Evening report* · every day 18:30 Europe/Berlin" in body
    assert "Recent changes" in body and f"<@{ADMIN}>" in body and "`reports.jobs` → 2 reports" in body


async def test_admin_ticks_one_thread_per_day_for_the_evening_report(world: World) -> None:
    modal = await press(world.slack, ADMIN, SCHEDULE_ACTION)
    values = initial_state(modal)
    i = job_index(modal, EVENING_REPORT)
    boxes = values[job_block(i, SECTIONS_BLOCK)]["value"]
    assert THREAD not in [o["value"] for o in boxes["selected_options"]]  # off until the team chooses it
    boxes["selected_options"] = [*boxes["selected_options"], {"value": THREAD}]
    ack = await submit(world.slack, ADMIN, modal, values)
    assert ack["response_action"] == "update", ack
    assert (await world.job(EVENING_REPORT)).thread_per_day
    assert not (await world.job(MORNING_REPORT)).thread_per_day
    again = initial_state(await press(world.slack, ADMIN, SCHEDULE_ACTION))  # the modal shows it ticked
    assert THREAD in [o["value"] for o in again[job_block(i, SECTIONS_BLOCK)]["value"]["selected_options"]]


async def test_admin_adds_a_weekly_digest_and_the_home_tab_shows_both_next_runs(world: World) -> None:
    modal = await press(world.slack, ADMIN, ADD_REPORT_ACTION)
    values = initial_state(modal)
    values[JOB_CHANNEL_BLOCK]["value"]["selected_conversation"] = WEEKLY  # public, sitrep not in it yet: fine
    mark = len(world.slack.calls)
    ack = await submit(world.slack, ADMIN, modal, values)
    assert ack["response_action"] == "update", ack

    weekly = await world.job("Weekly digest")
    assert (weekly.cron, weekly.channel, weekly.window_hours, weekly.enabled) == ("0 9 * * mon", WEEKLY, 168, True)
    next_run = world.scheduler.next_fire_times()[weekly.id]
    assert next_run is not None and next_run.astimezone(ZoneInfo(weekly.timezone)).strftime("%a %H:%M") == "Mon 09:00"

    home = await home_of(world.slack, ADMIN, mark)
    body = text(home)
    assert "*Weekly digest* · Mondays 09:00" in body and f"<#{WEEKLY}>" in body
    assert "7 days vs the 7 days before" in body
    for name in ("Weekly digest", "Evening report", "Morning report"):
        line = next(line for line in body.splitlines() if line.startswith(f"*{name}*"))
        following = body.split(line, 1)[1].splitlines()[1]
        assert following.startswith("next: "), following


async def test_an_unknown_time_zone_is_an_inline_error_and_nothing_is_stored(world: World) -> None:
    config_before = (await world.services.storage.teams.get(DEFAULT_TEAM_ID)).config_document
    audit_before = len(await world.services.storage.audit.recent(DEFAULT_TEAM_ID, 500))
    modal = await press(world.slack, ADMIN, SCHEDULE_ACTION)
    values = initial_state(modal)
    values[TZ_BLOCK]["value"]["value"] = "Mars/Olympus_Mons"
    i = job_index(modal, EVENING_REPORT)
    values[job_block(i, SECTIONS_BLOCK)]["value"]["selected_options"] = [{"value": "on"}]  # on, but no sections
    values[CHANNEL_BLOCK]["value"]["selected_conversation"] = SECRET
    ack = await submit(world.slack, ADMIN, modal, values)
    assert ack["response_action"] == "errors"
    assert "Mars/Olympus_Mons is not a time zone" in ack["errors"][TZ_BLOCK]
    assert "at least one section" in ack["errors"][job_block(i, SECTIONS_BLOCK)]
    assert "/invite @sitrep" in ack["errors"][CHANNEL_BLOCK]
    assert (await world.services.storage.teams.get(DEFAULT_TEAM_ID)).config_document == config_before
    assert len(await world.services.storage.audit.recent(DEFAULT_TEAM_ID, 500)) == audit_before


async def test_a_non_admin_sees_the_board_read_only_and_changes_nothing(world: World) -> None:
    config_before = (await world.services.storage.teams.get(DEFAULT_TEAM_ID)).config_document
    for action in (SCHEDULE_ACTION, ADD_REPORT_ACTION, AGENT_ACTION):
        refused = await press(world.slack, MEMBER, action)
        assert "Only workspace admins and owners" in text(refused) and "nothing was changed" in text(refused)

    admin_modal = await press(world.slack, ADMIN, SCHEDULE_ACTION)
    values = initial_state(admin_modal)
    values[TZ_BLOCK]["value"]["value"] = "Europe/Berlin"
    ack = await submit(world.slack, MEMBER, admin_modal, values)  # a member submitting a form they should not have
    assert ack["response_action"] == "update" and "Only workspace admins" in text(ack["view"])
    assert (await world.services.storage.teams.get(DEFAULT_TEAM_ID)).config_document == config_before

    mark = len(world.slack.calls)
    await world.slack.send_event({"type": "app_home_opened", "user": MEMBER, "tab": "home"})
    home = await home_of(world.slack, MEMBER, mark)
    actions = [e["action_id"] for b in home["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert SCHEDULE_ACTION not in actions and AGENT_ACTION not in actions
    assert "Read-only" in text(home) and "Scheduled reports" in text(home)


async def test_admin_sets_the_planner_prompt_coding_and_model(world: World) -> None:
    modal = await press(world.slack, ADMIN, AGENT_ACTION)
    values = initial_state(modal)
    values[PROMPT_BLOCK]["value"]["value"] = "Our services are api and worker.\nA p95 above 800 ms is bad."
    values[CODING_BLOCK]["value"]["selected_options"] = [{"value": "on"}]
    values[MODEL_BLOCK]["value"]["selected_option"] = {"value": "claude-haiku-5-5"}
    mark = len(world.slack.calls)
    ack = await submit(world.slack, ADMIN, modal, values)
    assert ack["response_action"] == "update" and "Saved" in text(ack["view"])
    agents = (await world.services.storage.teams.get(DEFAULT_TEAM_ID)).config.agents
    assert agents.planner.prompt.system.startswith("Our services") and agents.coding.enabled
    assert agents.model == "claude-haiku-5-5"
    body = text(await home_of(world.slack, ADMIN, mark))
    assert "`agents.coding.enabled` → on" in body and "`agents.model` → claude-haiku-5-5" in body
    assert "`agents.planner.prompt.system` → set (59 characters)" in body

    again = await press(world.slack, ADMIN, AGENT_ACTION)
    ack = await submit(world.slack, ADMIN, again, initial_state(again))
    assert "Nothing changed" in text(ack["view"])


async def test_admin_types_a_model_id_and_sets_a_daily_budget(world: World) -> None:
    modal = await press(world.slack, ADMIN, AGENT_ACTION)
    values = initial_state(modal)
    values[TYPED_MODEL_BLOCK]["value"]["value"] = "has spaces in it"
    ack = await submit(world.slack, ADMIN, modal, values)
    assert ack["response_action"] == "errors" and "is not a model id" in ack["errors"][TYPED_MODEL_BLOCK]
    values[TYPED_MODEL_BLOCK]["value"]["value"] = "us.anthropic.claude-sonnet-5-5"
    values[BUDGET_BLOCK]["value"]["value"] = "250000"
    ack = await submit(world.slack, ADMIN, modal, values)
    assert ack["response_action"] == "update" and "Saved" in text(ack["view"])
    agents = (await world.services.storage.teams.get(DEFAULT_TEAM_ID)).config.agents
    assert (agents.model, agents.daily_token_budget) == ("us.anthropic.claude-sonnet-5-5", 250_000)
    again = await press(world.slack, ADMIN, AGENT_ACTION)  # the typed id is offered in the list from now on
    chosen = next(b for b in again["blocks"] if b.get("block_id") == MODEL_BLOCK)["element"]["initial_option"]
    assert chosen["value"] == "us.anthropic.claude-sonnet-5-5"


async def test_the_configure_shortcut_leads_to_each_modal(world: World) -> None:
    slack = world.slack
    mark = len(slack.calls)
    await slack.wait_ack(await slack.send_interactive({"type": "shortcut", "callback_id": MENU_SHORTCUT}))
    menu_call = await slack.wait_for_call("views.open", since=mark)
    menu = menu_call.args["view"]
    buttons = {e["action_id"] for b in menu["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert {SCHEDULE_ACTION, ADD_REPORT_ACTION, AGENT_ACTION, "configure_grafana", "configure_amplitude"} <= buttons
    menu_view = {"id": menu_call.args.get("view_id") or "VMENU", "type": "modal"}
    mark = len(slack.calls)
    agent = await press(slack, ADMIN, AGENT_ACTION, in_view=menu_view)
    assert agent["callback_id"] == "agent_settings_submit"
    assert slack.calls_to("views.push")[-1].error is None and not slack.calls_to("views.open")[1:]
    grafana = await press(slack, ADMIN, "configure_grafana", in_view=menu_view)
    assert grafana["callback_id"] == "credentials_submit"


async def test_test_connections_reruns_every_check_with_its_time(world: World) -> None:
    mark = len(world.slack.calls)
    result = await press(world.slack, MEMBER, TEST_CONNECTIONS_ACTION)
    body = text(result)
    for name in ("Slack bot", "Scheduled reports", "GitHub"):
        assert f"*{name}*" in body
    assert body.count(" ms") + body.count(" s\n") >= 3
    assert world.slack.calls_to("auth.test")[-1].at > world.slack.calls[mark].at  # Slack asked again, now


async def test_slash_config_opens_the_schedule_modal(world: World) -> None:
    mark = len(world.slack.calls)
    await world.slack.send_slash_command("/sitrep", "config", user_id=ADMIN)
    update = await world.slack.wait_for_call(
        "views.update", lambda c: c.args["view"].get("callback_id") == "schedule_submit", since=mark
    )
    assert update.error is None


async def test_the_home_tab_shows_how_each_last_run_went(world: World) -> None:
    jobs = world.services.storage.jobs
    morning, evening = await world.job("Morning report"), await world.job(EVENING_REPORT)
    posted = await jobs.claim(morning.id, datetime(2026, 11, 30, 16, tzinfo=ZoneInfo("UTC")))
    assert posted is not None
    await jobs.finish(posted, "posted", message_ts="1764518400.000100", channel=REPORT)
    failed = await jobs.claim(evening.id, datetime(2026, 11, 30, 4, tzinfo=ZoneInfo("UTC")))
    assert failed is not None
    await jobs.finish(failed, "failed", error="sitrep cannot post in <#C0REPORT>: the channel is archived")
    mark = len(world.slack.calls)
    await world.slack.send_event({"type": "app_home_opened", "user": ADMIN, "tab": "home"})
    body = text(await home_of(world.slack, ADMIN, mark))
    assert f"<https://fake-team.slack.com/archives/{REPORT}/p1764518400000100|posted Mon 30 Nov 08:00 PST>" in body
    assert "failed Sun 29 Nov 20:00 PST: sitrep cannot post in <#C0REPORT>: the channel is archived" in body

    await jobs.record_missed(morning.id, datetime(2026, 12, 1, 16, tzinfo=ZoneInfo("UTC")), "sitrep was not running")
    mark = len(world.slack.calls)
    await world.slack.send_event({"type": "app_home_opened", "user": ADMIN, "tab": "home"})
    body = text(await home_of(world.slack, ADMIN, mark))
    assert "missed Tue 01 Dec 08:00 PST while sitrep was down (sitrep was not running)" in body


async def test_a_forged_add_report_payload_is_refused_and_stores_nothing(world: World) -> None:
    modal = await press(world.slack, ADMIN, ADD_REPORT_ACTION)
    values = initial_state(modal)
    values["days"]["value"]["selected_option"] = {"value": "someday"}
    jobs_before = await world.services.storage.jobs.list(DEFAULT_TEAM_ID)
    ack = await submit(world.slack, ADMIN, modal, values)
    assert ack["response_action"] == "errors" and "'mon'" in ack["errors"]["days"]
    assert await world.services.storage.jobs.list(DEFAULT_TEAM_ID) == jobs_before
    assert (await world.services.storage.teams.get(DEFAULT_TEAM_ID)).config.reports.jobs is None
