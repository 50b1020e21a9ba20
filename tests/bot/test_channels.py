"""bot/channels.py against a Slack (or a proxy in front of it) that answers with a body that is not JSON: an HTML
502, a text/plain 405. Never an AttributeError: an unknown error with its HTTP status, said to the person; a 5xx
is retried first."""

from __future__ import annotations

import pytest

from bot.channels import CannotPost, check_access, ensure_member
from bot.slack_client import web_client
from tests.fakes.slack import FakeSlack

HTML_502 = "<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>"


async def test_a_405_in_text_plain_is_an_unknown_error_with_its_status() -> None:
    async with FakeSlack() as slack:
        client = web_client(slack.bot_token, slack.api_url)
        slack.fail_next("conversations.info", status=405, body="Method Not Allowed", content_type="text/plain")
        access = await check_access(client, "C0REPORTS")
        assert not access.member and access.joinable  # Slack could not say: joining answers for itself
        assert "HTTP 405" in access.reason


async def test_a_502_from_a_proxy_is_retried() -> None:
    async with FakeSlack() as slack:
        client = web_client(slack.bot_token, slack.api_url)
        slack.fail_next("conversations.info", status=502, body=HTML_502)
        access = await check_access(client, "C0REPORTS")
        assert access.member
        assert [c.error for c in slack.calls_to("conversations.info")] == ["HTTP 502", None]


async def test_a_502_that_stays_is_told_with_its_status() -> None:
    async with FakeSlack(channels={"C0REPORTS": {"is_member": False}}) as slack:
        client = web_client(slack.bot_token, slack.api_url)
        slack.fail_next("conversations.info", status=502, body=HTML_502, times=3)
        slack.fail_next("conversations.join", status=502, body=HTML_502, times=3)
        with pytest.raises(CannotPost) as refused:
            await ensure_member(client, "C0REPORTS")
        message = str(refused.value)
        assert "HTTP 502" in message and "<#C0REPORTS>" in message
        assert len(slack.calls_to("conversations.join")) == 3  # retried twice
