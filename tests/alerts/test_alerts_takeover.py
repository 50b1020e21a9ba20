"""A first reply that never came is not waited for in silence: when the investigator failed (Slack refused the
reply), or its replica died before posting, the next notification of the alert investigates it and posts the one
reply, instead of an edit that waited 60 s for a reply and gave up."""

from __future__ import annotations

from pathlib import Path

import pytest
from slack_sdk.errors import SlackApiError

from alerts.model import Notification
from alerts.parse import parse_slack_message
from storage.alerts import AlertStore
from tests.alerts.test_alerts_desk import CHANNEL, desk_world
from tests.support.alert_payloads import grafana_slack_event


def slack_alert(ts: float) -> tuple[Notification, str]:
    event = grafana_slack_event(ts=f"{ts:.6f}")
    n = parse_slack_message(event)
    assert isinstance(n, Notification)
    return n, event["ts"]


async def test_a_failed_first_reply_is_posted_by_the_next_notification(tmp_path: Path) -> None:
    async with desk_world(tmp_path) as (w, slack, desk, starts):
        team = await w.team()
        slack.fail_next("chat.postMessage", "internal_error", status=200)
        n, ts = slack_alert(starts.timestamp())
        with pytest.raises(SlackApiError):
            await desk.handle(team, n, channel=CHANNEL, thread_ts=ts)
        assert not slack.messages.get(CHANNEL)
        again, again_ts = slack_alert(starts.timestamp() + 300)
        await desk.handle(team, again, channel=CHANNEL, thread_ts=again_ts)
        await desk.settle()
        posted = [c for c in slack.calls_to("chat.postMessage") if c.error is None]
        assert len(posted) == 1 and posted[0].args["thread_ts"] == ts  # in the alert's first message's thread
        assert "landed 14 min before" in posted[0].args["text"]
        inv = await AlertStore(w.services.storage.db).open_for(team.id, n.alerts[0].key)
        assert inv is not None and inv.reply_ts and inv.notifications == 2


async def test_an_investigator_that_vanished_is_taken_over_not_waited_for(tmp_path: Path) -> None:
    async with desk_world(tmp_path) as (w, slack, desk, starts):
        team = await w.team()
        store = AlertStore(w.services.storage.db)
        n, ts = slack_alert(starts.timestamp())
        alert = n.alerts[0]
        # another replica claimed it and died before posting: its claim is older than a first reply can take
        inv, created = await store.claim(
            team.id, alert.key, starts, alert_name=alert.name, source="slack", channel=CHANNEL, thread_ts=ts
        )
        assert created
        await w.services.storage.db.execute(
            "UPDATE alert_investigations SET investigating_since = '2020-01-01T00:00:00.000Z' WHERE id = ?", (inv.id,)
        )
        again, again_ts = slack_alert(starts.timestamp() + 300)
        await desk.handle(team, again, channel=CHANNEL, thread_ts=again_ts)
        (reply,) = slack.calls_to("chat.postMessage")
        assert reply.args["thread_ts"] == ts and "/explore?" in reply.args["text"]
        assert "notified 2 times" in reply.args["text"]  # the dead replica's notification is counted too
        await desk.settle()


async def test_an_investigation_under_way_elsewhere_is_not_taken_over(tmp_path: Path) -> None:
    async with desk_world(tmp_path) as (w, _slack, _desk, starts):
        team = await w.team()
        store = AlertStore(w.services.storage.db)
        n, ts = slack_alert(starts.timestamp())
        alert = n.alerts[0]
        inv, _ = await store.claim(
            team.id, alert.key, starts, alert_name=alert.name, source="slack", channel=CHANNEL, thread_ts=ts
        )  # another replica, investigating right now
        assert not await store.take_over(inv.id, starts)
        await store.release(inv.id)  # ... until it fails
        assert await store.take_over(inv.id, starts) and not await store.take_over(inv.id, starts)  # one winner
