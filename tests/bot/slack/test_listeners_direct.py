"""The Slack listeners called directly, as Bolt calls them: what Bolt injects (a stub `ack` that records its calls,
a real AsyncWebClient and response_url on the local Slack) and a context holding a real Runtime, filled by the
same middleware (bot/slack/context.py) the app installs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from agent.services import Services
from bot.background import answer_adopted
from bot.blocks.credentials import FORMS
from bot.runtime import Runtime
from bot.slack.commands import on_sitrep
from bot.slack.context import Provide, app_state, runtime_of
from bot.slack.credentials import on_submit as on_credentials
from bot.slack.dedupe import drop_repeated_events
from bot.slack.home import on_home_opened
from bot.slack.mentions import on_mention
from bot.slack.messages import on_message
from bot.slack.replies import ANSWERS
from bot.slack.report import RunNowGate
from settings import Settings
from storage.events import EventLedger
from storage.services import open_storage
from storage.teams import DEFAULT_TEAM_ID
from tests.fakes.slack import FakeSlack, SlackCall

ADMIN = "UADMIN"
SETTLE_S = 30.0


@dataclass
class World:
    slack: FakeSlack
    runtime: Runtime
    client: AsyncWebClient
    context: AsyncBoltContext


@dataclass
class Ack:
    """Bolt's `ack`, recording each call with how many Slack calls had been made before it."""

    slack: FakeSlack
    calls: list[dict[str, Any]] = field(default_factory=list)
    slack_calls_before: list[int] = field(default_factory=list)

    async def __call__(self, **kwargs: Any) -> BoltResponse:
        self.calls.append(kwargs)
        self.slack_calls_before.append(len(self.slack.calls))
        return BoltResponse(status=200, body="")


@pytest.fixture
async def world(env: dict[str, str]) -> AsyncIterator[World]:
    async with FakeSlack(users={ADMIN: {"name": "ops-lead", "is_admin": True}}) as slack:
        settings = Settings.from_env({**env, "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_API_URL": slack.api_url})
        services = Services(settings=settings, storage=await open_storage(settings))
        runtime = Runtime(services)
        client = runtime.slack
        assert isinstance(client, AsyncWebClient)
        try:
            yield World(slack, runtime, client, Provide(runtime).fill(AsyncBoltContext()))
        finally:
            await runtime.close()
            await services.close()


def body_of(slack: FakeSlack, event: dict, event_id: str) -> dict:
    return slack.event_envelope(event, event_id=event_id)


def text_of(call: SlackCall) -> str:
    blocks = call.args.get("blocks") or []
    return call.args.get("text", "") + "\n" + "\n".join((b.get("text") or {}).get("text", "") for b in blocks)


async def test_a_mention_is_answered_in_its_thread_by_the_supervisors_answers_group(world: World) -> None:
    slack, runtime = world.slack, world.runtime
    event = slack.message_event("help")
    body = body_of(slack, event, "EvMENTION1")
    assert await runtime.services.storage.events.record("EvMENTION1", body, answer=True)  # the dedupe middleware
    await on_mention(event=event, body=body, client=world.client, context=world.context)
    [task] = runtime.supervisor.running(ANSWERS)  # the listener returned; the answer is the Supervisor's
    assert task.get_name() == "answering a mention"
    assert await runtime.supervisor.settle(ANSWERS, SETTLE_S)
    [post] = slack.calls_to("chat.postMessage")
    assert post.args["channel"] == event["channel"] and post.args["thread_ts"] == event["ts"]
    assert "SRE teammate" in text_of(post)
    assert await runtime.services.storage.events.open_count() == 0  # finished in the ledger


async def test_a_mention_without_a_channel_starts_no_answer(world: World) -> None:
    event = {"type": "app_mention", "user": "U123", "text": "<@U0BOT> help"}
    await on_mention(event=event, body={"event_id": "EvBROKEN"}, client=world.client, context=world.context)
    assert world.runtime.supervisor.running(ANSWERS) == []
    assert world.slack.calls_to("chat.postMessage") == []


async def test_a_dm_is_answered_and_a_bots_dm_is_not(world: World) -> None:
    slack, runtime = world.slack, world.runtime
    bot_dm = {**slack.message_event("hello", channel="D123", mention=False), "bot_id": "B999"}
    await on_message(event=bot_dm, body=body_of(slack, bot_dm, "EvBOT"), client=world.client, context=world.context)
    assert runtime.supervisor.running(ANSWERS) == []
    dm = slack.message_event("help", channel="D123", mention=False)
    body = body_of(slack, dm, "EvDM")
    assert await runtime.services.storage.events.record("EvDM", body, answer=True)  # the dedupe middleware
    await on_message(event=dm, body=body, client=world.client, context=world.context)
    [task] = runtime.supervisor.running(ANSWERS)
    assert task.get_name() == "answering a direct message"
    assert await runtime.supervisor.settle(ANSWERS, SETTLE_S)
    [post] = slack.calls_to("chat.postMessage")
    assert post.args["channel"] == "D123" and post.args["thread_ts"] == dm["ts"]


async def test_a_mention_another_replica_acked_and_never_answered_is_answered_by_the_adopter(world: World) -> None:
    slack, storage = world.slack, world.runtime.services.storage
    event = slack.message_event("help")
    body = body_of(slack, event, "EvADOPT")
    assert await EventLedger(storage.db, "dead-replica").record("EvADOPT", body, answer=True)
    await storage.db.execute(  # acked long ago by a replica that never wrote a heartbeat
        "UPDATE slack_events SET received_at = '2020-01-01T00:00:00.000Z' WHERE event_id = 'EvADOPT'"
    )
    [adopted] = await storage.events.adopt(0)
    await answer_adopted(world.runtime, adopted)  # waits for its answer, which ran in the "answers" group
    [post] = slack.calls_to("chat.postMessage")
    assert post.args["thread_ts"] == event["ts"]
    assert await storage.events.adopt(0) == [] and await storage.events.open_count() == 0


async def test_the_dedupe_middleware_records_an_event_once_and_drops_its_repeat(world: World) -> None:
    event = world.slack.message_event("help")
    body = body_of(world.slack, event, "EvTWICE")
    passed: list[str] = []

    async def next_() -> None:
        passed.append(body["event_id"])

    assert await drop_repeated_events(body=body, context=world.context, next=next_) is None
    repeat = await drop_repeated_events(body=body, context=world.context, next=next_)
    assert isinstance(repeat, BoltResponse) and repeat.status == 200  # acked, not handled again
    assert passed == ["EvTWICE"]
    assert await world.runtime.services.storage.events.open_count() == 1  # a mention: kept until answered


async def test_sitrep_help_acks_before_anything_else_then_responds(world: World) -> None:
    slack = world.slack
    ack = Ack(slack)
    url = slack.new_response_url()
    command = {"command": "/sitrep", "text": "help", "user_id": "U123", "channel_id": "C123", "response_url": url}
    respond = AsyncRespond(response_url=url)
    await on_sitrep(ack=ack, command=command, respond=respond, client=world.client, context=world.context)
    assert ack.calls == [{}] and ack.slack_calls_before == [0]  # acked first, empty, before any Slack call
    [reply] = slack.calls_to("response_url")
    assert reply.args["response_type"] == "ephemeral" and "SRE teammate" in reply.args["text"]


async def test_sitrep_question_acks_with_what_it_is_working_on(world: World) -> None:
    slack = world.slack
    ack = Ack(slack)
    url = slack.new_response_url()
    command = {"command": "/sitrep", "text": "status", "user_id": "U123", "channel_id": "C123", "response_url": url}
    await on_sitrep(
        ack=ack, command=command, respond=AsyncRespond(response_url=url), client=world.client, context=world.context
    )
    assert ack.slack_calls_before == [0] and "Working on `status`" in ack.calls[0]["text"]
    assert ack.calls[0]["response_type"] == "ephemeral"
    assert slack.calls_to("response_url")  # then the answer, on the response_url


async def test_credentials_without_the_required_fields_come_back_as_field_errors(world: World) -> None:
    form = FORMS["grafana"]
    view = {
        "id": "V123",
        "type": "modal",
        "callback_id": "credentials_submit",
        "private_metadata": json.dumps({"integration": "grafana"}),
        "state": {"values": {f.block_id: {"value": {"type": "plain_text_input", "value": None}} for f in form.fields}},
    }
    body = {"type": "view_submission", "user": {"id": ADMIN}, "team": {"id": "T123"}, "view": view}
    ack = Ack(world.slack)
    await on_credentials(ack=ack, body=body, view=view, client=world.client, context=world.context)
    [answer] = ack.calls
    assert answer["response_action"] == "errors"
    required = {f.block_id for f in form.fields if not f.optional}
    assert set(answer["errors"]) == required
    assert await world.runtime.services.storage.credentials.get_all(DEFAULT_TEAM_ID, "grafana") == {}
    assert world.slack.calls_to("views.update") == []  # nothing checked, nothing shown after the errors


async def test_opening_the_home_tab_publishes_it_for_that_user(world: World) -> None:
    slack = world.slack
    event = {"type": "app_home_opened", "user": "U123", "tab": "home", "channel": "D123"}
    await on_home_opened(event=event, body={"team_id": "T123"}, client=world.client, context=world.context)
    [published] = slack.calls_to("views.publish")
    assert published.args["user_id"] == "U123" and published.args["view"]["type"] == "home"
    messages_tab = {**event, "tab": "messages"}
    await on_home_opened(event=messages_tab, body={"team_id": "T123"}, client=world.client, context=world.context)
    assert len(slack.calls_to("views.publish")) == 1  # the Messages tab is not the Home tab


def test_a_context_without_the_middleware_says_so() -> None:
    with pytest.raises(LookupError, match="Provide"):
        runtime_of(AsyncBoltContext())


async def test_listener_state_is_one_per_app(world: World) -> None:
    gate = app_state(world.context, RunNowGate)
    assert app_state(AsyncBoltContext(dict(world.context)), RunNowGate) is gate  # every request of this app
    other = Provide(world.runtime).fill(AsyncBoltContext())
    assert app_state(other, RunNowGate) is not gate  # another app, its own
