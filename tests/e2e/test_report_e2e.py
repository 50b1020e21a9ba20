"""`/sitrep report` the way Slack sends it, to a fresh `python app.py` in Socket Mode.

The black-box run of issue 20 found no report within 40 s, and a report asked for in a public channel sitrep had
not joined neither joined and posted nor told the user. Here the command arrives as a `slash_commands` envelope
over the Slack double's websocket, Grafana and Amplitude are configured with their doubles, and Slack answers as
it does: a public channel sitrep is not in gives `is_member: false` and `not_in_channel` until joined, a private
one is invisible (`channel_not_found`), and a response_url takes a few posts of a message.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.slack.report import FIRST_POST_S, WORKING
from tests.fakes.amplitude import FakeAmplitude
from tests.fakes.grafana import FakeGrafana
from tests.fakes.slack import FakeSlack
from tests.support import report_data as rd
from tests.support.app_process import AppProcess, app_env

pytestmark = pytest.mark.e2e  # starts `python app.py`

MEMBER, PUBLIC, PRIVATE = "C0MEMBER", "C0PUBLIC", "G0PRIVATE"
CHANNELS = {MEMBER: {"is_member": True}, PUBLIC: {"is_member": False}, PRIVATE: {"is_member": False}}
REPORT_S = 10.0  # a report over local doubles takes well under a second; the black-box run waited 40 s for none


@pytest.fixture
async def amplitude() -> AsyncIterator[FakeAmplitude]:
    fake = await FakeAmplitude().start()
    yield fake
    await fake.close()


@pytest.fixture
async def app(
    tmp_path: Path, grafana: FakeGrafana, amplitude: FakeAmplitude
) -> AsyncIterator[tuple[AppProcess, FakeSlack]]:
    end = datetime.now(UTC)
    rd.seed_logs(grafana, rd.default_logs(), end)
    rd.seed_latency(grafana, rd.default_latency(), end)
    rd.seed_alerts(grafana)
    async with FakeSlack(channels={k: dict(v) for k, v in CHANNELS.items()}) as slack:
        env = app_env(
            tmp_path,
            slack,
            GRAFANA_URL=grafana.url,
            GRAFANA_TOKEN=grafana.token,
            AMPLITUDE_API_KEY=amplitude.api_key,
            AMPLITUDE_SECRET_KEY=amplitude.secret_key,
            AMPLITUDE_API_URL=amplitude.url,
        )
        process = await AppProcess("app", env).start()
        try:
            await slack.wait_connected(timeout=30)
            yield process, slack
        finally:
            code = await process.stop()
        assert code == 0, process.log
        assert "Traceback" not in process.log, process.log


async def report_command(slack: FakeSlack, channel: str) -> dict:
    """Type `/sitrep report` in `channel`: the ack frame, which must come within Slack's 3 s."""
    envelope = await slack.send_slash_command("/sitrep", "report", channel_id=channel)
    return await slack.wait_ack(envelope, timeout=3)


async def test_report_in_a_channel_sitrep_is_in_is_posted_there(app: tuple[AppProcess, FakeSlack]) -> None:
    _, slack = app
    ack = await report_command(slack, MEMBER)
    assert ack["payload"] == {"text": WORKING, "response_type": "ephemeral"}
    post = await slack.wait_for_call("chat.postMessage", lambda c: c.args["channel"] == MEMBER, timeout=REPORT_S)
    assert post.error is None
    logs = rd.default_logs()
    assert f"{logs.current(logs.timeouts)} 5xx responses" in post.args["text"]
    assert [m["text"] for m in slack.messages[MEMBER]] == [post.args["text"]]  # posted once


async def test_report_in_a_public_channel_sitrep_is_not_in_joins_it_then_posts(
    app: tuple[AppProcess, FakeSlack],
) -> None:
    _, slack = app
    await report_command(slack, PUBLIC)
    post = await slack.wait_for_call("chat.postMessage", lambda c: c.args["channel"] == PUBLIC, timeout=REPORT_S)
    assert post.error is None  # not not_in_channel: it joined first
    methods = [c.method for c in slack.calls if c.args.get("channel") == PUBLIC]
    assert methods.index("conversations.join") < methods.index("chat.postMessage")
    assert slack.channels[PUBLIC]["is_member"] is True


async def test_report_in_a_private_channel_tells_the_user_to_invite_sitrep(
    app: tuple[AppProcess, FakeSlack],
) -> None:
    _, slack = app
    await report_command(slack, PRIVATE)
    reply = await slack.wait_for_call("response_url", timeout=REPORT_S)
    assert reply.error is None
    assert reply.args["response_type"] == "ephemeral"
    assert f"/invite @sitrep` in <#{PRIVATE}>" in reply.args["text"]
    assert not [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == PRIVATE]


async def test_report_while_grafana_has_not_answered_is_posted_then_completed_in_place(
    app: tuple[AppProcess, FakeSlack], grafana: FakeGrafana
) -> None:
    """A Grafana that takes its time: a cold report waits for several Grafana round trips in a row (data sources,
    labels, then the queries), and each section may take 45 s, so a person saw nothing for longer than they wait.
    Now what is ready is posted after FIRST_POST_S and the message is completed when Grafana answers."""
    _, slack = app
    grafana.hold = asyncio.Event()  # every Grafana request waits until released
    try:
        await report_command(slack, MEMBER)
        first = await slack.wait_for_call(
            "chat.postMessage", lambda c: c.args["channel"] == MEMBER, timeout=FIRST_POST_S + 10
        )
        assert first.error is None
        assert "Grafana: still gathering" in first.args["text"]
        assert "Amplitude has no events yet" in first.args["text"]  # Amplitude answered: its line is there already
        assert not slack.calls_to("chat.update")
    finally:
        grafana.hold.set()
    ts = slack.messages[MEMBER][0]["ts"]
    done = await slack.wait_for_call("chat.update", lambda c: c.args["ts"] == ts, timeout=REPORT_S)
    assert done.error is None
    logs = rd.default_logs()
    assert f"{logs.current(logs.timeouts)} 5xx responses" in done.args["text"]
    assert "still gathering" not in done.args["text"]
    assert [m["text"] for m in slack.messages[MEMBER]] == [done.args["text"]]  # one message, completed in place


async def test_report_in_a_private_channel_with_an_expired_response_url_tells_the_user_in_their_dm(
    app: tuple[AppProcess, FakeSlack],
) -> None:
    """A response_url Slack no longer takes (404 `expired_url`) was the only way the person would have been told;
    Bolt's respond() does not raise on it, so they heard nothing."""
    _, slack = app
    envelope = await slack.send_slash_command("/sitrep", "report", channel_id=PRIVATE, user_id="U0ALICE")
    slack.expire_response_urls()  # Slack's 30 minutes are over before sitrep answers
    await slack.wait_ack(envelope, timeout=3)
    refused = await slack.wait_for_call("response_url", timeout=REPORT_S)
    assert refused.error == "expired_url"
    dm = await slack.wait_for_call("chat.postMessage", lambda c: c.args["channel"] == "U0ALICE", timeout=REPORT_S)
    assert f"/invite @sitrep` in <#{PRIVATE}>" in dm.args["text"]


async def test_report_in_a_public_channel_joins_it_when_conversations_info_fails(
    app: tuple[AppProcess, FakeSlack],
) -> None:
    """conversations.info answering an error of Slack's own (not channel_not_found) left sitrep neither joining
    nor posting; joining says for itself whether sitrep can be in the channel."""
    _, slack = app
    slack.fail_next("conversations.info", "internal_error", status=200)
    await report_command(slack, PUBLIC)
    post = await slack.wait_for_call("chat.postMessage", lambda c: c.args["channel"] == PUBLIC, timeout=REPORT_S)
    assert post.error is None
    methods = [c.method for c in slack.calls if c.args.get("channel") == PUBLIC]
    assert methods.index("conversations.join") < methods.index("chat.postMessage")
