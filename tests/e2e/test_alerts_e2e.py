"""Issue 21's black-box run: a fresh `python app.py` in Socket Mode against the Slack double, with Grafana (a firing
rule, Loki errors for its labels) and GitHub (changes recorded before the alert) configured with their doubles.

Grafana's Slack contact point posts the alert into a channel sitrep is in: sitrep receives it as any channel member
does, a `message` event from another bot (subtype bot_message, Grafana's attachment). It answers in the alert's
thread with the rule in Explore and the nearest earlier change; the next notification of the same alert edits that
reply; the resolve appends how long it lasted. The webhook contact point's path goes through app.py's own web
server, the body arriving in small chunks.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from storage.changes import ChangeStore, pushed_commit
from tests.alerts.test_alerts_desk import iso
from tests.fakes.slack import FakeSlack
from tests.skills.grafana.test_grafana_alerts import DATA, rule
from tests.support.alert_payloads import LABELS, grafana_slack_event, grafana_webhook
from tests.support.app_process import AppProcess, app_env
from tests.support.github_world import REPO, World, github_world

pytestmark = pytest.mark.e2e  # starts `python app.py`

ALERTS, HOOKS = "C0ALERTS", "C0HOOKS"
TOKEN = "e2e-alerts-token-0001"
REPLY_S = 15.0  # an investigation over local doubles takes well under a second


def seed(w: World, starts: datetime) -> None:
    w.grafana.alert_groups = [
        {
            "name": "vercel",
            "file": "MochaCare",
            "rules": [
                rule(
                    "High error rate",
                    "firing",
                    data=DATA,
                    instances=[{"labels": LABELS, "state": "Alerting", "activeAt": iso(starts)}],
                )
            ],
        }
    ]


async def record_changes(w: World, starts: datetime) -> None:
    """Pushes to the default branch as the GitHub webhook records them: 14 min and 90 min before the alert, and
    one 10 min after it started (never the cause)."""
    changes = [("c" * 40, "Lower the agent timeout", -14), ("b" * 40, "Bump deps", -90), ("d" * 40, "later", 10)]
    await ChangeStore(w.services.storage.db).record(
        [
            pushed_commit(
                REPO, sha, "main", "dev", msg, iso(starts + timedelta(minutes=at)), f"https://x/{sha}", "webhook"
            )
            for sha, msg, at in changes
        ]
    )


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[AppProcess, FakeSlack, datetime]]:
    starts = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    async with github_world(tmp_path) as w, FakeSlack() as slack:
        seed(w, starts)
        await record_changes(w, starts)
        env = app_env(tmp_path, slack, **{**w.env, "SITREP_ALERTS_TOKEN": TOKEN, "SITREP_TIMEZONE": "UTC"})
        process = await AppProcess("app", env).start()
        try:
            await slack.wait_connected(timeout=30)
            yield process, slack, starts
        finally:
            code = await process.stop()
        assert code == 0, process.log
        assert "Traceback" not in process.log, process.log


def replies_in(slack: FakeSlack, channel: str, thread_ts: str) -> list[dict]:
    return [m for m in slack.messages.get(channel, []) if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts]


async def test_a_grafana_alert_message_is_investigated_in_its_thread_then_edited_then_resolved(
    app: tuple[AppProcess, FakeSlack, datetime],
) -> None:
    _, slack, starts = app
    alert_ts = f"{starts.timestamp():.6f}"
    await slack.send_event(grafana_slack_event(ts=alert_ts, channel=ALERTS))
    reply = await slack.wait_for_call(
        "chat.postMessage", lambda c: c.args.get("thread_ts") == alert_ts, timeout=REPLY_S
    )
    assert reply.error is None and reply.args["channel"] == ALERTS
    text = reply.args["text"]
    assert "/explore?" in text  # the rule's expression in Explore
    assert "ccccccc" in text and "landed 14 min before" in text  # the nearest earlier change
    assert "ddddddd" not in text  # pushed after the alert started: not its cause
    [posted] = replies_in(slack, ALERTS, alert_ts)
    reply_ts = posted["ts"]

    again_ts = f"{starts.timestamp() + 300:.6f}"  # Grafana's repeat_interval: the same alert, notified again
    mark = len(slack.calls)
    await slack.send_event(grafana_slack_event(ts=again_ts, channel=ALERTS))
    edit = await slack.wait_for_call(
        "chat.update",
        lambda c: c.args["ts"] == reply_ts and "notified 2 times" in c.args["text"],
        since=mark,
        timeout=REPLY_S,
    )
    assert edit.error is None and "landed 14 min before" in edit.args["text"]

    resolved_ts = f"{(starts + timedelta(minutes=23)).timestamp():.6f}"
    mark = len(slack.calls)
    await slack.send_event(grafana_slack_event("resolved", ts=resolved_ts, channel=ALERTS))
    resolved = await slack.wait_for_call(
        "chat.update",
        lambda c: c.args["ts"] == reply_ts and "resolved at" in c.args["text"],
        since=mark,
        timeout=REPLY_S,
    )
    ends = starts + timedelta(minutes=23)
    # Grafana's Slack message carries no start time: counted from sitrep's first sighting, and said so
    said = f"resolved at {ends:%H:%M} UTC, 23 min after sitrep first saw it at {starts:%H:%M} UTC"
    assert said in resolved.args["text"] and "lasted" not in resolved.args["text"]
    assert f"first seen {starts:%H:%M} UTC" in resolved.args["text"]
    # one investigation for the whole firing period: no second reply in either notification's thread
    assert len(replies_in(slack, ALERTS, alert_ts)) == 1
    assert not replies_in(slack, ALERTS, again_ts) and not replies_in(slack, ALERTS, resolved_ts)
    assert replies_in(slack, ALERTS, alert_ts)[0]["text"] == resolved.args["text"]


async def chunks(body: bytes, size: int = 97) -> AsyncIterator[bytes]:
    for i in range(0, len(body), size):
        yield body[i : i + size]


async def test_a_grafana_webhook_through_apps_web_server_posts_the_alert_and_investigates_it(
    app: tuple[AppProcess, FakeSlack, datetime],
) -> None:
    process, slack, starts = app
    line = await process.wait_line(r"web server on http://")
    port = re.search(r"http://[^:]+:(\d+)", line)
    assert port is not None
    url = f"http://127.0.0.1:{port.group(1)}/alerts/grafana?channel={HOOKS}"
    body = json.dumps(grafana_webhook(startsAt=iso(starts))).encode()
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=chunks(body), headers={"Content-Type": "application/json"}) as refused:
            assert refused.status == 401  # no token: nothing read, nothing posted
        auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        async with http.post(url, data=chunks(body), headers=auth) as accepted:
            assert accepted.status == 202, await accepted.text()
    alert = await slack.wait_for_call(
        "chat.postMessage", lambda c: c.args["channel"] == HOOKS and not c.args.get("thread_ts"), timeout=REPLY_S
    )
    assert "High error rate" in alert.args["text"] and alert.error is None
    alert_ts = slack.messages[HOOKS][0]["ts"]
    reply = await slack.wait_for_call(
        "chat.postMessage", lambda c: c.args.get("thread_ts") == alert_ts, timeout=REPLY_S
    )
    assert "/explore?" in reply.args["text"] and "landed 14 min before" in reply.args["text"]


async def test_an_alert_like_message_sitrep_cannot_read_gets_one_short_reply_and_chat_gets_none(
    app: tuple[AppProcess, FakeSlack, datetime],
) -> None:
    _, slack, _ = app
    chat = slack.message_event("the deploy is firing up, alert me when done", channel=ALERTS, mention=False)
    await slack.send_event(chat)
    odd = {"type": "message", "subtype": "bot_message", "bot_id": "B0OTHER", "channel": ALERTS, "text": ""}
    odd["attachments"] = [{"title": "Alert: disk almost full on db-1", "text": "92% used"}]
    odd["ts"] = slack.issue_ts()
    await slack.send_event(odd)
    reply = await slack.wait_for_call("chat.postMessage", timeout=REPLY_S)
    assert reply.args["thread_ts"] == odd["ts"]  # in the odd message's thread
    assert "not one sitrep can read" in reply.args["text"] and "[FIRING:n] name" in reply.args["text"]
    assert len(slack.calls_to("chat.postMessage")) == 1  # people's chat is left alone
