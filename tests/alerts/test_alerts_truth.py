"""Alert threads that tell the truth about what the notification carried:
- Alertmanager's default Slack message has only a title, "[FIRING:1] APIHighLatency (app-107 api-server warning)":
  its values are matched against Loki's label values (not "none of the alert's labels is a Loki label"), or the
  reply says the message carried none; its rule is said to live in Prometheus, not "not found among Grafana's".
- "[FIRING:3]" is three alerts: told apart by Prometheus' ALERTS series and investigated one by one; Grafana's own
  Slack message lists each of them and each is investigated.
- Grafana's Slack message has no start time: "first seen 08:10", and a resolve says how long after that."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from alerts.model import Notification
from alerts.parse import parse_slack_message
from tests.alerts.test_alerts_desk import CHANNEL, desk_world
from tests.bot.test_alert_storm import message_text
from tests.fakes.slack import FakeSlack
from tests.support.alert_payloads import GRAFANA_SLACK_TEXT, alertmanager_slack_event, grafana_slack_event

TITLE = "APIHighLatency (app-107 api-server warning)"


def am_message(title: str, ts: float) -> tuple[Notification, str]:
    event = alertmanager_slack_event(ts=f"{ts:.6f}", channel=CHANNEL)
    event["attachments"][0].update(title=title, fallback=title)
    n = parse_slack_message(event)
    assert isinstance(n, Notification)
    return n, event["ts"]


def thread_replies(slack: FakeSlack, ts: str) -> list[str]:
    return [message_text(m) for m in slack.thread(CHANNEL, ts) if m["ts"] != ts]


def seed_api_logs(w) -> None:  # type: ignore[no-untyped-def]
    lines = ['{"level":"error","message":"Error: upstream timeout after 30000ms"}'] * 6
    w.grafana.add_logs({"app": "app-107", "service_name": "api-server"}, lines, gap_s=20)


async def test_alertmanagers_title_values_scope_the_logs_and_its_rule_lives_in_prometheus(tmp_path: Path) -> None:
    async with desk_world(tmp_path) as (w, slack, desk, starts):
        seed_api_logs(w)
        n, ts = am_message(f"[FIRING:1] {TITLE}", starts.timestamp())
        await desk.handle(await w.team(), n, channel=CHANNEL, thread_ts=ts)
        (reply,) = thread_replies(slack, ts)
        assert '{app="app-107",service_name="api-server"}' in reply and "error lines" in reply
        assert "none of the alert's labels is a Loki label" not in reply
        assert "a Prometheus alerting rule (Alertmanager sent it)" in reply
        assert "not found among Grafana's alert rules" not in reply


async def test_a_title_without_values_says_the_message_carried_none(tmp_path: Path) -> None:
    async with desk_world(tmp_path) as (w, slack, desk, starts):
        n, ts = am_message("[FIRING:1] APIHighLatency", starts.timestamp())
        await desk.handle(await w.team(), n, channel=CHANNEL, thread_ts=ts)
        (reply,) = thread_replies(slack, ts)
        assert "the alert's message carried no labels" in reply
        assert "none of the alert's labels is a Loki label" not in reply


async def test_firing_3_from_alertmanager_is_three_investigations(tmp_path: Path) -> None:
    async with desk_world(tmp_path) as (w, slack, desk, starts):
        seed_api_logs(w)
        now = time.time()
        for i in range(3):
            labels = {"alertname": "APIHighLatency", "app": "app-107", "service": "api-server"}
            labels.update(severity="warning", instance=f"10.0.0.{i + 1}:9090")
            w.grafana.add_series({"__name__": "ALERTS", "alertstate": "firing", **labels}, [(now, 1)])
            w.grafana.add_series({"__name__": "ALERTS_FOR_STATE", **labels}, [(now, starts.timestamp() - 60 * i)])
        n, ts = am_message(f"[FIRING:3] {TITLE}", starts.timestamp())
        team = await w.team()
        await desk.handle(team, n, channel=CHANNEL, thread_ts=ts)
        listing, *investigations = thread_replies(slack, ts)
        assert "names 3 firing alerts only by what they share" in listing
        assert len(investigations) == 3
        for i in range(3):
            (one,) = [t for t in investigations if f"instance=10.0.0.{i + 1}:9090" in t]
            since = starts - timedelta(minutes=i)
            assert f"since {since:%H:%M} UTC" in one  # its start, from ALERTS_FOR_STATE: not a first sighting
            assert '{app="app-107"}' in one  # its own labels scope the logs

        resolved, resolved_ts = am_message(f"[RESOLVED] {TITLE}", starts.timestamp() + 900)
        await desk.handle(team, resolved, channel=CHANNEL, thread_ts=resolved_ts)
        assert all("resolved at" in t for t in thread_replies(slack, ts))  # all four, with the one message


async def test_grafanas_firing_3_message_is_three_investigations(tmp_path: Path) -> None:
    async with desk_world(tmp_path) as (w, slack, desk, starts):
        event = grafana_slack_event(ts=f"{starts.timestamp():.6f}", channel=CHANNEL)
        one = GRAFANA_SLACK_TEXT.split("**Firing**\n\n", 1)[1]
        text = "**Firing**\n\n" + "\n".join(one.replace("lambda", source) for source in ("lambda", "edge", "api"))
        event["attachments"][0].update(text=text, title="[FIRING:3] High error rate (sre)")
        n = parse_slack_message(event)
        assert isinstance(n, Notification) and len(n.alerts) == 3
        await desk.handle(await w.team(), n, channel=CHANNEL, thread_ts=event["ts"])
        replies = thread_replies(slack, event["ts"])
        assert len(replies) == 3
        for source in ("lambda", "edge", "api"):
            assert any(f"source={source}" in r for r in replies)
            assert all(f"first seen {starts:%H:%M} UTC" in r for r in replies)  # no start time in the message


async def test_a_resolve_of_a_message_without_a_start_says_how_long_after_first_seen(tmp_path: Path) -> None:
    async with desk_world(tmp_path) as (w, slack, desk, starts):
        team = await w.team()
        event = grafana_slack_event(ts=f"{starts.timestamp():.6f}", channel=CHANNEL)
        firing = parse_slack_message(event)
        assert isinstance(firing, Notification)
        await desk.handle(team, firing, channel=CHANNEL, thread_ts=event["ts"])
        later = grafana_slack_event("resolved", ts=f"{starts.timestamp() + 15 * 60:.6f}", channel=CHANNEL)
        resolved = parse_slack_message(later)
        assert isinstance(resolved, Notification)
        await desk.handle(team, resolved, channel=CHANNEL, thread_ts=later["ts"])
        (reply,) = thread_replies(slack, event["ts"])
        ends = starts + timedelta(minutes=15)
        assert f"resolved at {ends:%H:%M} UTC, 15 min after sitrep first saw it at {starts:%H:%M} UTC" in reply
        assert "lasted" not in reply and f"first seen {starts:%H:%M} UTC" in reply
