"""The fake Slack's rate limits (https://api.slack.com/apis/rate-limits) and its answers that are not JSON, exercised
with the real slack_sdk client: about one chat.postMessage a second per channel after a short burst, tiered
methods per method, HTTP 429 with a whole-second Retry-After and `ratelimited`; an HTML 502 and a text/plain 405."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import FakeSlack
from tests.fakes.slack_limits import SlackLimits


def test_post_buckets_are_per_channel_and_refill_once_a_second() -> None:
    limits = SlackLimits(post_burst=3)
    at = 100.0
    assert [limits.check("chat.postMessage", {"channel": "C1"}, at) for _ in range(3)] == [0, 0, 0]
    assert limits.check("chat.postMessage", {"channel": "C1"}, at) == 1  # the burst is spent: Retry-After 1 s
    assert limits.check("chat.postMessage", {"channel": "C2"}, at) == 0  # another channel has its own
    assert limits.check("chat.postMessage", {"channel": "C1"}, at + 0.5) == 1
    assert limits.check("chat.postMessage", {"channel": "C1"}, at + 1.0) == 0  # one a second again
    assert limits.check("chat.postMessage", {"channel": "C1"}, at + 1.2) == 1
    assert limits.count("chat.postMessage") == 3


def test_tiered_methods_are_limited_per_method_not_per_channel() -> None:
    limits = SlackLimits(tier_burst_fraction=0.2)  # chat.update is Tier 3: 50 a minute, 10 at once
    at = 0.0
    answers = [limits.check("chat.update", {"channel": f"C{i}"}, at) for i in range(11)]
    assert answers[:10] == [0] * 10 and answers[10] == 2  # 1.2 s until the next token: Retry-After rounds up
    assert limits.check("chat.update", {"channel": "C1"}, at + 1.2) == 0
    assert limits.check("chat.startStream", {}, at) == 0  # no tier known: not limited


async def test_a_burst_in_one_channel_is_answered_429_with_retry_after() -> None:
    async with FakeSlack(rate_limits=SlackLimits(post_burst=2)) as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        for _ in range(2):
            assert (await client.chat_postMessage(channel="C1", text="alert"))["ok"]
        with pytest.raises(SlackApiError) as limited:
            await client.chat_postMessage(channel="C1", text="alert")
        response = limited.value.response
        assert response.status_code == 429 and response.headers["Retry-After"] == "1"
        assert response["error"] == "ratelimited"
        assert (await client.chat_postMessage(channel="C2", text="elsewhere"))["ok"]
        assert [c.error for c in slack.calls_to("chat.postMessage")] == [None, None, "ratelimited", None]
        assert len(slack.messages["C1"]) == 2  # the refused one was not posted


@pytest.mark.parametrize(
    ("status", "body", "content_type", "data"),
    [
        (502, "<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html", {}),
        (405, "Method Not Allowed", "text/plain", "Method Not Allowed"),
    ],
)
async def test_errors_that_are_not_json(status: int, body: str, content_type: str, data: object) -> None:
    async with FakeSlack() as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        slack.fail_next("conversations.info", status=status, body=body, content_type=content_type)
        with pytest.raises(SlackApiError) as failed:
            await client.conversations_info(channel="C1")
        assert failed.value.response.status_code == status
        assert failed.value.response.data == data  # slack_sdk keeps text/plain as a str, drops HTML
        assert slack.calls_to("conversations.info")[0].error == f"HTTP {status}"
        assert (await client.conversations_info(channel="C1"))["ok"]  # only the next call fails
