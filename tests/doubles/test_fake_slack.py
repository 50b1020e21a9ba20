"""The fake Slack, exercised with the real slack_sdk clients the app uses."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.models.blocks import DividerBlock, SectionBlock
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes.slack import FakeSlack


@pytest.fixture
async def slack():
    async with FakeSlack(users={"UADMIN": {"name": "root", "is_admin": True, "tz": "Europe/Berlin"}}) as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)


@pytest.fixture
async def socket_client(slack: FakeSlack):
    sm = SocketModeClient(app_token=slack.app_token, web_client=AsyncWebClient(base_url=slack.api_url))
    try:
        yield sm
    finally:
        await sm.close()


def _error(exc: pytest.ExceptionInfo[SlackApiError]) -> str:
    return exc.value.response["error"]


# -- Web API ------------------------------------------------------------------------------------------


async def test_auth_test_answers_with_the_bot_identity(slack: FakeSlack, client: AsyncWebClient) -> None:
    response = await client.auth_test()
    assert response["ok"] is True
    assert (response["team_id"], response["user_id"], response["bot_id"]) == ("T123", "U0BOT", "B0BOT")
    assert response["url"].startswith("https://")
    [call] = slack.calls_to("auth.test")
    assert call.token == "xoxb-test-token" and call.error is None


async def test_bad_or_missing_token_is_refused(slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as bad:
        await AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url).auth_test()
    assert _error(bad) == "invalid_auth"
    assert bad.value.response.status_code == 200
    with pytest.raises(SlackApiError) as missing:
        await AsyncWebClient(base_url=slack.api_url).chat_postMessage(channel="C1", text="hi")
    assert _error(missing) == "not_authed"
    with pytest.raises(SlackApiError) as app_token:  # the xapp- token only opens connections
        await AsyncWebClient(token=slack.app_token, base_url=slack.api_url).chat_postMessage(channel="C1", text="x")
    assert _error(app_token) == "not_allowed_token_type"
    assert [c.error for c in slack.calls] == ["invalid_auth", "not_authed", "not_allowed_token_type"]


async def test_post_message_returns_increasing_ts_and_records_blocks(slack: FakeSlack, client: AsyncWebClient) -> None:
    blocks = [SectionBlock(text="*prod* is healthy"), DividerBlock()]
    first = await client.chat_postMessage(channel="C42", text="prod is healthy", blocks=blocks)
    second = await client.chat_postMessage(channel="C42", text="reply", thread_ts=first["ts"])
    assert first["channel"] == "C42"
    assert first["message"]["text"] == "prod is healthy"
    assert float(second["ts"]) > float(first["ts"])
    assert second["message"]["thread_ts"] == first["ts"]

    call = slack.calls_to("chat.postMessage")[0]
    assert call.args["channel"] == "C42"
    assert call.args["blocks"] == [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*prod* is healthy"}},
        {"type": "divider"},
    ]
    replies = await client.conversations_replies(channel="C42", ts=first["ts"])
    assert [m["text"] for m in replies["messages"]] == ["prod is healthy", "reply"]


async def test_form_encoded_body_is_parsed_and_json_fields_decoded(slack: FakeSlack) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            slack.api_url + "chat.postMessage",
            data={"token": slack.bot_token, "channel": "C1", "blocks": '[{"type": "divider"}]', "text": "t"},
        ) as res:
            body = await res.json()
    assert body["ok"] is True
    call = slack.calls_to("chat.postMessage")[0]
    assert call.token == slack.bot_token
    assert call.args == {"channel": "C1", "blocks": [{"type": "divider"}], "text": "t"}


async def test_rate_limit_injection_sends_429_with_retry_after(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail_next("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as exc:
        await client.chat_postMessage(channel="C1", text="hi")
    assert exc.value.response.status_code == 429
    assert exc.value.response.headers["Retry-After"] == "7"
    assert _error(exc) == "ratelimited"
    assert (await client.chat_postMessage(channel="C1", text="hi"))["ok"] is True  # only the next call fails

    slack.fail_next("reactions.add", error="internal_error", status=200)
    with pytest.raises(SlackApiError) as other:
        await client.reactions_add(channel="C1", timestamp="1.0", name="eyes")
    assert _error(other) == "internal_error"


async def test_retry_handler_honours_retry_after(slack: FakeSlack) -> None:
    retrying = AsyncWebClient(
        token=slack.bot_token, base_url=slack.api_url, retry_handlers=[AsyncRateLimitErrorRetryHandler()]
    )
    slack.fail_next("chat.postMessage", retry_after=0)
    assert (await retrying.chat_postMessage(channel="C1", text="hi"))["ok"] is True
    assert [c.error for c in slack.calls_to("chat.postMessage")] == ["ratelimited", None]


async def test_slack_limits_are_enforced(slack: FakeSlack, client: AsyncWebClient) -> None:
    divider = {"type": "divider"}
    with pytest.raises(SlackApiError) as too_many:
        await client.chat_postMessage(channel="C1", text="x", blocks=[divider] * 51)
    assert _error(too_many) == "invalid_blocks"
    with pytest.raises(SlackApiError) as no_channel:
        await client.api_call("chat.postMessage", json={"text": "x"})
    assert _error(no_channel) == "channel_not_found"
    with pytest.raises(SlackApiError) as home:
        await client.views_publish(user_id="U123", view={"type": "home", "blocks": [divider] * 101})
    assert _error(home) == "invalid_arguments"
    assert (await client.views_publish(user_id="U123", view={"type": "home", "blocks": [divider] * 100}))["ok"]
    with pytest.raises(SlackApiError) as title:
        long_title = {"type": "plain_text", "text": "x" * 25}
        await client.views_open(trigger_id=slack.new_trigger_id(), view={"type": "modal", "title": long_title})
    assert _error(title) == "invalid_arguments"
    assert "title" in title.value.response["response_metadata"]["messages"][0]


async def test_views_publish_and_single_use_trigger(slack: FakeSlack, client: AsyncWebClient) -> None:
    published = await client.views_publish(user_id="U123", view={"type": "home", "blocks": []})
    assert published["view"]["id"].startswith("V") and published["view"]["type"] == "home"
    assert slack.home_views["U123"]["id"] == published["view"]["id"]

    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Grafana"}, "blocks": []}
    trigger = slack.new_trigger_id()
    opened = await client.views_open(trigger_id=trigger, view=modal)
    with pytest.raises(SlackApiError) as again:
        await client.views_open(trigger_id=trigger, view=modal)
    assert _error(again) == "exchanged_trigger_id"
    updated = await client.views_update(view_id=opened["view"]["id"], view=modal, hash=opened["view"]["hash"])
    assert updated["view"]["id"] == opened["view"]["id"]


async def test_users_info_and_unknown_methods(client: AsyncWebClient) -> None:
    admin = (await client.users_info(user="UADMIN"))["user"]
    assert (admin["is_admin"], admin["name"], admin["tz"]) == (True, "root", "Europe/Berlin")
    assert (await client.users_info(user="U123"))["user"]["is_admin"] is False
    with pytest.raises(SlackApiError) as missing:
        await client.users_info(user="UNOBODY")
    assert _error(missing) == "user_not_found"
    assert (await client.api_call("bookmarks.list", params={"channel_id": "C1"}))["ok"] is True


async def test_wait_for_call_wakes_on_a_call_and_times_out_otherwise(slack: FakeSlack, client: AsyncWebClient) -> None:
    waiter = asyncio.create_task(slack.wait_for_call("chat.postMessage", lambda c: c.args.get("text") == "b"))
    await client.chat_postMessage(channel="C1", text="a")
    await client.chat_postMessage(channel="C1", text="b")
    assert (await waiter).args["text"] == "b"
    with pytest.raises(TimeoutError, match=r"chat\.update"):
        await slack.wait_for_call("chat.update", timeout=0.05)


# -- Socket Mode ----------------------------------------------------------------------------------------


async def test_socket_mode_client_connects_gets_an_event_and_acks(
    slack: FakeSlack, socket_client: SocketModeClient
) -> None:
    hello = asyncio.Event()
    requests: list[SocketModeRequest] = []

    async def on_message(_client, message: dict, _raw: str | None) -> None:
        if message.get("type") == "hello":
            hello.set()

    async def on_request(sm: SocketModeClient, req: SocketModeRequest) -> None:
        requests.append(req)
        await sm.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))

    socket_client.message_listeners.append(on_message)
    socket_client.socket_mode_request_listeners.append(on_request)
    await socket_client.connect()
    await slack.wait_connected()
    await asyncio.wait_for(hello.wait(), 5)
    assert slack.calls_to("apps.connections.open")[0].token == slack.app_token

    event = slack.message_event("how is prod?", channel="C9")
    envelope_id = await slack.send_event(event, event_id="Ev1")
    ack = await slack.wait_ack(envelope_id)
    assert ack == {"envelope_id": envelope_id}
    assert 0 <= slack.ack_latency[envelope_id] < 3
    [req] = requests
    assert req.type == "events_api"
    assert req.payload["event_id"] == "Ev1" and req.payload["type"] == "event_callback"
    assert req.payload["event"]["text"] == "<@U0BOT> how is prod?"
    assert slack.thread("C9", event["ts"])[0]["text"] == event["text"]  # the mention is in the thread history


async def test_unacked_envelope_times_out(slack: FakeSlack, socket_client: SocketModeClient) -> None:
    await socket_client.connect()
    await slack.wait_connected()
    envelope_id = await slack.send_event(slack.message_event("nobody listens"))
    with pytest.raises(TimeoutError, match=envelope_id):
        await slack.wait_ack(envelope_id, timeout=0.1)


async def test_disconnect_makes_the_client_reconnect(slack: FakeSlack, socket_client: SocketModeClient) -> None:
    await socket_client.connect()
    await slack.wait_connected()
    await slack.send_disconnect()
    await slack.wait_connected(count=2)
    assert len(slack.calls_to("apps.connections.open")) == 2


async def test_slash_command_ack_with_payload_and_response_url(
    slack: FakeSlack, socket_client: SocketModeClient
) -> None:
    async def on_request(sm: SocketModeClient, req: SocketModeRequest) -> None:
        await sm.send_socket_mode_response(SocketModeResponse(req.envelope_id, payload={"text": "working on it"}))
        await AsyncWebhookClient(req.payload["response_url"]).send(text="done")

    socket_client.socket_mode_request_listeners.append(on_request)
    await socket_client.connect()
    await slack.wait_connected()
    envelope_id = await slack.send_slash_command("/sitrep", "status")
    assert (await slack.wait_ack(envelope_id))["payload"] == {"text": "working on it"}
    assert slack.envelopes[envelope_id]["accepts_response_payload"] is True
    response = await slack.wait_for_call("response_url")
    assert response.args["text"] == "done"


async def test_a_crash_inside_the_fake_is_recorded_not_hidden(slack: FakeSlack, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        await client.api_call("chat.update", json={"channel": ["not", "a", "string"], "ts": "1.0"})
    assert exc.value.response.status_code == 500
    assert slack.calls_to("chat.update")[0].error.startswith("fake_slack_crashed")


async def test_dropped_connection_is_reopened_by_the_client(slack: FakeSlack, socket_client: SocketModeClient) -> None:
    await socket_client.connect()
    await slack.wait_connected()
    await slack.drop_connections()
    await slack.wait_connected(count=2)
    assert [c.error for c in slack.calls_to("apps.connections.open")] == [None, None]


async def test_membership_as_slack_answers_it(client: AsyncWebClient) -> None:
    """A public channel the bot is not in: not_in_channel until conversations.join; a private one is invisible."""
    channels = {"CPUB": {"is_member": False}, "GPRIV": {"is_member": False, "is_private": True}}
    async with FakeSlack(channels=channels) as s:
        c = AsyncWebClient(token=s.bot_token, base_url=s.api_url)
        with pytest.raises(SlackApiError) as refused:
            await c.chat_postMessage(channel="CPUB", text="hi")
        assert refused.value.response["error"] == "not_in_channel"
        assert (await c.conversations_info(channel="CPUB"))["channel"]["is_member"] is False
        joined = await c.conversations_join(channel="CPUB")
        assert joined["channel"]["is_member"] is True and "warning" not in joined.data
        assert (await c.conversations_join(channel="CPUB"))["warning"] == "already_in_channel"
        assert (await c.chat_postMessage(channel="CPUB", text="hi"))["ok"]
        for call in (c.chat_postMessage(channel="GPRIV", text="hi"), c.conversations_info(channel="GPRIV")):
            with pytest.raises(SlackApiError) as hidden:
                await call
            assert hidden.value.response["error"] == "channel_not_found"
        s.channels["GIN"] = {"is_private": True}
        with pytest.raises(SlackApiError) as private:
            await c.conversations_join(channel="GIN")
        assert private.value.response["error"] == "method_not_supported_for_channel_type"


async def test_views_break_on_element_limits_as_slack_says(slack: FakeSlack, client: AsyncWebClient) -> None:
    text_input = {"type": "plain_text_input", "action_id": "v", "max_length": 4000}
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "t"},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            {"type": "input", "block_id": "a", "label": {"type": "plain_text", "text": "x"}, "element": text_input},
            {
                "type": "input",
                "block_id": "b",
                "label": {"type": "plain_text", "text": "y"},
                "element": {"type": "timepicker", "action_id": "v", "initial_time": "8:00"},
            },
        ],
    }
    with pytest.raises(SlackApiError) as refused:
        await client.views_open(trigger_id=slack.new_trigger_id(), view=view)
    messages = refused.value.response["response_metadata"]["messages"]
    assert any("max_length" in m for m in messages) and any("HH:mm" in m for m in messages)
    text_input["max_length"] = 3000
    view["blocks"][1]["element"]["initial_time"] = "08:00"
    assert (await client.views_open(trigger_id=slack.new_trigger_id(), view=view))["ok"]
