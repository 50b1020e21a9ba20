"""alerts/desk.py end to end in-process: a Grafana webhook's alert investigated against the fake Grafana and
GitHub, posted through the poster (bot/poster.py) to the fake Slack's Web API; a flood of re-notifications edits
the one reply a few times; a resolve appends how long it lasted and edits sitrep's post of the alert too."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alerts.desk import AlertDesk
from alerts.model import Notification
from alerts.parse import parse_slack_message, parse_webhook
from bot.poster import SlackPoster
from bot.slack_client import web_client
from storage.alerts import AlertStore
from storage.changes import ChangeStore, pushed_commit
from storage.teams import Team
from supervisor import Supervisor
from tests.fakes.slack import FakeSlack
from tests.skills.grafana.test_grafana_alerts import DATA, rule
from tests.support.alert_payloads import LABELS, grafana_slack_event, grafana_webhook
from tests.support.github_world import REPO, World, github_world

CHANNEL = "C0ALERTS"


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Desk:
    """The desk under test with its poster: `handle` records a notification and waits until everything it started
    (investigations, posts, edits) is done."""

    def __init__(self, desk: AlertDesk, poster: SlackPoster) -> None:
        self.desk, self.poster = desk, poster

    async def accept(self, team: Team, n: Notification, *, channel: str, thread_ts: str = "") -> int:
        return await self.desk.accept(team, n, channel=channel, thread_ts=thread_ts)

    async def handle(self, team: Team, n: Notification, *, channel: str, thread_ts: str = "") -> None:
        await self.accept(team, n, channel=channel, thread_ts=thread_ts)
        await self.settle()

    async def settle(self, timeout: float = 30.0) -> None:
        assert await self.desk.settle(timeout), "investigations still under way"
        assert await self.poster.settle(timeout), "posts still waiting"


@asynccontextmanager
async def desk_world(
    tmp_path: Path, *, first_wait: float = 2.0, slack: FakeSlack | None = None, **env: str
) -> AsyncIterator[tuple[World, FakeSlack, Desk, datetime]]:
    async with github_world(tmp_path, **env) as w, slack or FakeSlack() as slack:
        now = datetime.now(UTC).replace(microsecond=0)
        starts = now - timedelta(minutes=10)
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
        changes = [("c" * 40, "Lower the agent timeout", 24), ("b" * 40, "Bump deps", 90), ("d" * 40, "later", 2)]
        await ChangeStore(w.services.storage.db).record(
            [
                pushed_commit(
                    REPO,
                    sha,
                    "main",
                    "dev",
                    msg,
                    iso(now - timedelta(minutes=ago)),
                    f"https://github.com/{REPO}/commit/{sha}",
                    "webhook",
                )
                for sha, msg, ago in changes
            ]
        )
        supervisor = Supervisor()
        poster = SlackPoster(w.services.storage.outbox, web_client(slack.bot_token, slack.api_url), supervisor)
        desk = AlertDesk(w.services, poster, supervisor, first_wait=first_wait)
        try:
            yield w, slack, Desk(desk, poster), starts
        finally:
            await supervisor.stop()


def _notification(starts: datetime, status: str = "firing", **alert: Any) -> Notification:
    n = parse_webhook(grafana_webhook(status, startsAt=iso(starts), **alert), "grafana")
    assert isinstance(n, Notification)
    return n


async def test_webhook_alert_gets_an_investigation_then_a_flood_edits_it_then_resolve(tmp_path: Path) -> None:
    async with desk_world(tmp_path) as (w, slack, desk, starts):
        team = await w.team()
        await desk.handle(team, _notification(starts), channel=CHANNEL)
        posts = slack.calls_to("chat.postMessage")
        assert len(posts) == 2  # the alert, then the investigation in its thread
        alert_msg, reply = posts[0].args, posts[1].args
        assert reply["thread_ts"] and reply["channel"] == CHANNEL and "High error rate" in alert_msg["text"]
        text = reply["text"]
        assert "/explore?" in text  # the rule's expression in Explore
        assert "cccccc" in text and "landed 14 min before" in text  # the nearest earlier change, not the later one
        assert "ddddddd" not in text
        assert '{source="lambda"}' in text and "error lines" in text  # Loki scoped to the alert's labels
        await desk.settle()

        for _ in range(200):
            await desk.accept(team, _notification(starts), channel=CHANNEL)
        await desk.settle()
        assert len(slack.calls_to("chat.postMessage")) == 2  # still one investigation
        updates = slack.calls_to("chat.update")
        assert 1 <= len(updates) <= 6, len(updates)  # coalesced, not 200
        assert "notified 201 times" in updates[-1].args["text"]
        inv = await AlertStore(w.services.storage.db).open_for(team.id, "a2c3cbb7d9c3a6f3")
        assert inv is not None and inv.notifications == 201

        await desk.handle(
            team, _notification(starts, "resolved", endsAt=iso(starts + timedelta(minutes=23))), channel=CHANNEL
        )
        await desk.settle()
        updates = {c.args["ts"]: c.args["text"] for c in slack.calls_to("chat.update")}
        resolved = f"resolved at {starts + timedelta(minutes=23):%H:%M} UTC, lasted 23 min"
        last = updates[slack.messages[CHANNEL][1]["ts"]]
        assert resolved in last and "landed 14 min before" in last  # the investigation stays
        post = updates[slack.messages[CHANNEL][0]["ts"]]  # sitrep's post of the alert no longer says "is firing"
        assert post.startswith(":white_check_mark: *High error rate* " + resolved) and "is firing" not in post


async def test_slack_message_alert_is_answered_in_its_thread(tmp_path: Path) -> None:
    async with desk_world(tmp_path) as (w, slack, desk, starts):
        team = await w.team()
        event = grafana_slack_event(ts=f"{starts.timestamp():.6f}")
        n = parse_slack_message(event)
        assert isinstance(n, Notification)
        await desk.handle(team, n, channel=CHANNEL, thread_ts=event["ts"])
        (reply,) = slack.calls_to("chat.postMessage")
        assert reply.args["thread_ts"] == event["ts"]
        assert "landed 14 min before" in reply.args["text"] and "/explore?" in reply.args["text"]
        again = grafana_slack_event(ts=f"{starts.timestamp() + 300:.6f}")
        n2 = parse_slack_message(again)
        assert isinstance(n2, Notification)
        await desk.handle(team, n2, channel=CHANNEL, thread_ts=again["ts"])
        await desk.settle()
        assert len(slack.calls_to("chat.postMessage")) == 1 and slack.calls_to("chat.update")


async def test_a_grafana_that_does_not_answer_does_not_hold_the_first_reply(tmp_path: Path) -> None:
    async with desk_world(tmp_path, first_wait=0.2) as (w, slack, desk, starts):
        team = await w.team()
        w.grafana.hold = asyncio.Event()  # Grafana answers nothing until released
        try:
            await desk.accept(team, _notification(starts), channel=CHANNEL)
            call = await slack.wait_for_call("chat.postMessage", lambda c: bool(c.args.get("thread_ts")), timeout=5)
            first = call.args["text"]
            assert "landed 14 min before" in first  # the changes (sitrep's own table) are in
            assert "/explore?" not in first and "Still looking at the alert rule" in first
        finally:
            w.grafana.hold.set()
        await desk.settle()
        edited = slack.calls_to("chat.update")[-1].args["text"]
        assert "/explore?" in edited and "error lines" in edited and "Still looking" not in edited
