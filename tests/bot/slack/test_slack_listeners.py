"""Every Slack surface through the local Slack, with the app served in-process by the same `serve` as app.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from agent.services import Services
from storage.services import open_storage
from tests.fakes.slack import FakeSlack
from tests.support.serving import served, slack_settings


@dataclass
class Running:
    slack: FakeSlack
    services: Services


@pytest.fixture
async def running(env: dict[str, str]) -> AsyncIterator[Running]:
    async with FakeSlack() as slack:
        settings = slack_settings(env, slack)
        services = Services(settings=settings, storage=await open_storage(settings))
        async with served(services, slack):
            yield Running(slack, services)


def text_of(call_args: dict) -> str:
    blocks = call_args.get("blocks") or []
    return call_args.get("text", "") + "\n" + "\n".join((b.get("text") or {}).get("text", "") for b in blocks)


async def mention_answered(slack: FakeSlack, text: str = "help") -> dict:
    start = len(slack.calls)
    event = slack.message_event(text)
    await slack.wait_ack(await slack.send_event(event))
    call = await slack.wait_for_call("chat.postMessage", since=start)
    assert call.args["thread_ts"] == event["ts"]
    return call.args


async def test_non_json_frames_and_unknown_envelopes_do_not_stop_the_app(running: Running) -> None:
    slack = running.slack
    await slack.send_raw("this is not json {")
    unknown = await slack.send_envelope("something_new", {"x": 1})
    unhandled = await slack.send_event({"type": "reaction_added", "user": "U1", "reaction": "eyes", "item": {}})
    await slack.wait_ack(unhandled)
    assert await mention_answered(slack)  # still answering
    assert unknown in slack.envelopes


async def test_mention_without_channel_is_acked_and_ignored(running: Running) -> None:
    slack = running.slack
    broken = {"type": "app_mention", "user": "U123", "text": "<@U0BOT> help"}
    await slack.wait_ack(await slack.send_envelope("events_api", slack.event_envelope(broken)))
    await mention_answered(slack)
    assert len(slack.calls_to("chat.postMessage")) == 1  # only the good mention was answered


async def test_a_retried_event_is_answered_once(running: Running) -> None:
    slack = running.slack
    event = slack.message_event("help")
    first = await slack.send_envelope("events_api", slack.event_envelope(event, event_id="Ev1"))
    await slack.wait_ack(first)
    await slack.wait_for_call("chat.postMessage")
    again = await slack.send_envelope(
        "events_api", slack.event_envelope(event, event_id="Ev1"), retry_attempt=1, retry_reason="timeout"
    )
    await slack.wait_ack(again)
    await mention_answered(slack)  # a later, different event is still answered
    posts = [c for c in slack.calls_to("chat.postMessage") if c.args["thread_ts"] == event["ts"]]
    assert len(posts) == 1


async def test_direct_message_is_answered_in_its_thread(running: Running) -> None:
    slack = running.slack
    dm = slack.message_event("help", channel="D123", mention=False)
    await slack.wait_ack(await slack.send_event(dm))
    call = await slack.wait_for_call("chat.postMessage")
    assert call.args["channel"] == "D123" and call.args["thread_ts"] == dm["ts"]
    assert "SRE teammate" in text_of(call.args)


async def test_bot_messages_in_dm_are_ignored(running: Running) -> None:
    slack = running.slack
    bot_dm = {**slack.message_event("hello", channel="D123", mention=False), "bot_id": "B999"}
    await slack.wait_ack(await slack.send_event(bot_dm))
    await mention_answered(slack)
    assert all(c.args["channel"] != "D123" for c in slack.calls_to("chat.postMessage"))


async def test_slash_command_help_and_status(running: Running) -> None:
    slack = running.slack
    await slack.wait_ack(await slack.send_slash_command("/sitrep", "help"))
    reply = await slack.wait_for_call("response_url")
    assert "SRE teammate" in reply.args["text"]
    start = len(slack.calls)
    ack = await slack.wait_ack(await slack.send_slash_command("/sitrep", "status"))
    assert "Working on" in ack["payload"]["text"]
    reply = await slack.wait_for_call("response_url", since=start)
    assert "Scheduled reports" in text_of(reply.args)


async def test_home_refresh_button_republishes(running: Running) -> None:
    slack = running.slack
    await slack.send_interactive(
        {
            "type": "block_actions",
            "actions": [{"action_id": "home_refresh", "type": "button", "value": "refresh"}],
            "view": {"id": "V1", "type": "home"},
            "container": {"type": "view", "view_id": "V1"},
        }
    )
    call = await slack.wait_for_call("views.publish")
    assert call.args["user_id"] == "U123"


async def test_global_shortcut_opens_a_modal_then_fills_it(running: Running) -> None:
    slack = running.slack
    await slack.wait_ack(await slack.send_interactive({"type": "shortcut", "callback_id": "sitrep_open"}))
    opened = await slack.wait_for_call("views.open")
    assert opened.error is None
    updated = await slack.wait_for_call("views.update")
    assert "Integrations" in text_of(updated.args["view"])


async def test_message_shortcut_answers_in_the_message_thread(running: Running) -> None:
    slack = running.slack
    message = {"type": "message", "user": "U9", "text": "help", "ts": "1700000000.000200"}
    await slack.send_interactive(
        {
            "type": "message_action",
            "callback_id": "sitrep_investigate",
            "message": message,
            "channel": {"id": "C777", "name": "ops"},
            "message_ts": message["ts"],
        }
    )
    call = await slack.wait_for_call("chat.postMessage")
    assert call.args["channel"] == "C777" and call.args["thread_ts"] == message["ts"]


async def test_message_shortcut_in_a_channel_sitrep_cannot_see_tells_the_user_by_dm(running: Running) -> None:
    slack = running.slack
    slack.channels["GHIDDEN"] = {"is_member": False, "is_private": True}
    slack.channels["CPUBLIC"] = {"is_member": False}
    message = {"type": "message", "user": "U9", "text": "help", "ts": "1700000000.000300"}
    shortcut = {"type": "message_action", "callback_id": "sitrep_investigate", "message": message}
    await slack.send_interactive({**shortcut, "channel": {"id": "GHIDDEN", "name": "secret"}})
    note = await slack.wait_for_call("chat.postMessage", lambda c: c.args["channel"] == "U123")
    assert "`/invite @sitrep`" in note.args["text"] and "<#GHIDDEN>" in note.args["text"]
    assert not slack.messages.get("GHIDDEN")

    await slack.send_interactive({**shortcut, "channel": {"id": "CPUBLIC", "name": "ops"}})
    answer = await slack.wait_for_call("chat.postMessage", lambda c: c.args["channel"] == "CPUBLIC")
    assert answer.error is None and answer.args["thread_ts"] == message["ts"]
    assert [c.args["channel"] for c in slack.calls_to("conversations.join")] == ["CPUBLIC"]


async def test_snippet_button_opens_the_tracking_snippet_modal(running: Running) -> None:
    slack = running.slack
    await slack.send_interactive(
        {
            "type": "block_actions",
            "actions": [{"action_id": "amplitude_snippet", "type": "button", "value": "Amplitude"}],
            "view": {"id": "V1", "type": "home"},
            "container": {"type": "view", "view_id": "V1"},
        }
    )
    opened = await slack.wait_for_call("views.open")
    assert opened.error is None
    body = text_of(opened.args["view"])
    assert "Agent Failed" in body and "@amplitude/analytics-node" in body


async def test_mention_report_posts_the_report_in_the_thread(running: Running) -> None:
    call = await mention_answered(running.slack, "report")
    assert call["blocks"][0]["type"] == "header"
    assert "Status report" in call["blocks"][0]["text"]["text"]
    assert "Amplitude" in text_of(call)
