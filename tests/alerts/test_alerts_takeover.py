"""An accepted alert is not lost: a reply Slack refused once is sent again; an investigation whose replica died
(its row taken long ago, still without a reply) is taken over when the desk starts or looks again; one under way
elsewhere is left to its investigator; a failure gives it back at once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alerts.model import Notification, alert_json
from alerts.parse import parse_slack_message
from storage.alerts import AlertStore
from tests.alerts.test_alerts_desk import CHANNEL, desk_world
from tests.support.alert_payloads import grafana_slack_event


def slack_alert(ts: float) -> tuple[Notification, str]:
    event = grafana_slack_event(ts=f"{ts:.6f}")
    n = parse_slack_message(event)
    assert isinstance(n, Notification)
    return n, event["ts"]


async def test_a_reply_slack_refused_once_is_sent_again(tmp_path: Path) -> None:
    async with desk_world(tmp_path) as (w, slack, desk, starts):
        team = await w.team()
        slack.fail_next("chat.postMessage", "internal_error", status=200)
        n, ts = slack_alert(starts.timestamp())
        await desk.handle(team, n, channel=CHANNEL, thread_ts=ts)
        posted = [c for c in slack.calls_to("chat.postMessage") if c.error is None]
        assert len(posted) == 1 and posted[0].args["thread_ts"] == ts  # in the alert's first message's thread
        assert "landed 14 min before" in posted[0].args["text"]
        assert [c.error for c in slack.calls_to("chat.postMessage")] == ["internal_error", None]


async def test_an_investigator_that_vanished_is_taken_over_at_start(tmp_path: Path) -> None:
    async with desk_world(tmp_path) as (w, slack, desk, starts):
        team = await w.team()
        store = AlertStore(w.services.storage.db)
        n, ts = slack_alert(starts.timestamp())
        alert = replace(n.alerts[0], starts_at=starts)  # as accept() keeps it: first seen at its message's ts
        # another replica accepted it, took it, and died before posting: its take is older than an investigation
        inv, created = await store.claim(
            team.id, alert.key, starts, alert_name=alert.name, source="slack", channel=CHANNEL, thread_ts=ts,
            alert=alert_json(alert), start_seen=True,
        )  # fmt: skip
        assert created
        await store.claim(team.id, alert.key, starts, alert_name=alert.name, source="slack", channel=CHANNEL,
                          thread_ts=ts)  # fmt: skip
        await w.services.storage.db.execute(
            "UPDATE alert_investigations SET investigating_since = '2020-01-01T00:00:00.000Z' WHERE id = ?", (inv.id,)
        )
        desk.desk.start()  # as at start-up (bot/background.py)
        reply = await slack.wait_for_call("chat.postMessage", timeout=10)
        assert reply.args["thread_ts"] == ts and "/explore?" in reply.args["text"]
        assert "notified 2 times" in reply.args["text"]  # the dead replica's notifications are counted too
        assert f"first seen {starts:%H:%M} UTC" in reply.args["text"]  # a Slack message carries no start time


async def test_an_investigation_under_way_elsewhere_is_not_taken_until_released(tmp_path: Path) -> None:
    async with desk_world(tmp_path) as (w, _slack, _desk, starts):
        team = await w.team()
        store = AlertStore(w.services.storage.db)
        n, ts = slack_alert(starts.timestamp())
        alert = n.alerts[0]
        inv, _ = await store.claim(
            team.id, alert.key, starts, alert_name=alert.name, source="slack", channel=CHANNEL, thread_ts=ts,
            alert=alert_json(alert),
        )  # fmt: skip
        stale = datetime.now(UTC) - timedelta(minutes=2)
        takes = await asyncio.gather(*(store.take(4, stale) for _ in range(5)))
        assert [len(t) for t in takes].count(1) == 1  # one taker among replicas
        assert await store.take(4, stale) == []  # another replica is investigating it right now
        await store.release(inv.id)  # ... until it fails
        assert [t.id for t in await store.take(4, stale)] == [inv.id]
