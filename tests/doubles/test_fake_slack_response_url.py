"""The Slack double's response_url as Slack documents it: a message posted at most 5 times within 30 minutes."""

from __future__ import annotations

import httpx

from tests.fakes.slack import RESPONSE_URL_USES, FakeSlack


async def test_a_response_url_takes_five_messages_then_answers_used_url() -> None:
    async with FakeSlack() as slack, httpx.AsyncClient() as http:
        url = slack.new_response_url()
        answers = [
            await http.post(url, json={"text": f"reply {n}", "response_type": "ephemeral"})
            for n in range(RESPONSE_URL_USES + 1)
        ]
        assert [(a.status_code, a.text) for a in answers[:-1]] == [(200, "ok")] * RESPONSE_URL_USES
        assert (answers[-1].status_code, answers[-1].text) == (404, "used_url")
        assert [c.error for c in slack.calls_to("response_url")][-1] == "used_url"


async def test_a_response_url_needs_a_message_and_must_have_been_issued() -> None:
    async with FakeSlack() as slack, httpx.AsyncClient() as http:
        empty = await http.post(slack.new_response_url(), json={"response_type": "ephemeral"})
        unknown = await http.post(f"{slack.base_url}/response/never-issued", json={"text": "hi"})
        assert (empty.status_code, empty.text) == (400, "no_text")
        assert (unknown.status_code, unknown.text) == (404, "expired_url")
