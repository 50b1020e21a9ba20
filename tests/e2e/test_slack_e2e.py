"""The real entry point against the local Slack: connect, ack, answer in the thread, publish the Home tab."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator

import pytest

from tests.fakes.slack import FakeSlack
from tests.support.environment import ROOT, subprocess_env

pytestmark = pytest.mark.e2e  # starts processes: `pytest -m "not e2e"` skips it

ROWS = ("Slack bot", "Scheduled reports", "Grafana", "Amplitude", "GitHub")


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


async def start_app(env: dict[str, str], slack: FakeSlack, **extra: str) -> asyncio.subprocess.Process:
    full = {
        **env,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_APP_TOKEN": slack.app_token,
        "SLACK_API_URL": slack.api_url,
        "SITREP_HTTP_PORT": "0",
        **extra,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "app.py"),
        env=subprocess_env(full),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def stop_app(proc: asyncio.subprocess.Process, *, signal_it: bool = True) -> tuple[int, str]:
    """SIGTERM (unless it is expected to exit by itself) and wait: it must be gone within 5 s."""
    if signal_it and proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(proc.communicate(), 5 if signal_it else 30)
    return proc.returncode, err.decode()


def block_text(blocks: list[dict]) -> str:
    return "\n".join((b.get("text") or {}).get("text", "") for b in blocks)


async def test_mention_is_acked_then_answered_in_its_thread_and_home_tab_published(
    env: dict[str, str], slack: FakeSlack
) -> None:
    proc = await start_app(env, slack)
    try:
        await slack.wait_connected(timeout=30)
        mention = slack.message_event("help", channel="C123")
        envelope = await slack.send_event(mention)
        ack = await slack.wait_ack(envelope)
        assert ack["envelope_id"] == envelope
        post = await slack.wait_for_call("chat.postMessage", timeout=10)
        # ack first, then work: the ack reached Slack before the answer did
        assert slack.ack_latency[envelope] < post.at - slack.sent_at[envelope]
        assert post.args["channel"] == "C123"
        assert post.args["thread_ts"] == mention["ts"]
        assert "SRE teammate" in block_text(post.args["blocks"])

        mark = len(slack.calls)
        reply_in_thread = slack.message_event("help", channel="C123", thread_ts="1700000000.000001")
        await slack.wait_ack(await slack.send_event(reply_in_thread))
        post = await slack.wait_for_call("chat.postMessage", since=mark)
        assert post.args["thread_ts"] == "1700000000.000001"

        home = {"type": "app_home_opened", "user": "U123", "channel": "D123", "tab": "home", "event_ts": "1.2"}
        await slack.wait_ack(await slack.send_event(home))
        publish = await slack.wait_for_call("views.publish", timeout=10)
        assert publish.args["user_id"] == "U123"
        text = block_text(publish.args["view"]["blocks"])
        for row in ROWS:
            assert f"*{row}*" in text
        assert "Connected as" in text or "connected as" in text
    finally:
        code, err = await stop_app(proc)
    assert code == 0, err
    assert "Traceback" not in err


async def test_rejected_bot_token_exits_2_with_one_line(env: dict[str, str], slack: FakeSlack) -> None:
    proc = await start_app(env, slack, SLACK_BOT_TOKEN="xoxb-wrong")
    code, err = await stop_app(proc, signal_it=False)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "SLACK_BOT_TOKEN was rejected by Slack (invalid_auth)" in lines[0]


async def test_rejected_app_token_exits_2_with_one_line(env: dict[str, str], slack: FakeSlack) -> None:
    proc = await start_app(env, slack, SLACK_APP_TOKEN="xapp-wrong")
    code, err = await stop_app(proc, signal_it=False)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "SLACK_APP_TOKEN was rejected by Slack (invalid_auth)" in lines[0]
