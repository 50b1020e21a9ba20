"""alerts/parse.py: every documented shape read into one model; anything else is Unreadable or None, never raised."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alerts.model import Notification, Unreadable, fingerprint
from alerts.parse import parse_slack_message, parse_time, parse_webhook
from tests.support.alert_payloads import (
    FINGERPRINT,
    LABELS,
    alertmanager_slack_event,
    alertmanager_webhook,
    grafana_slack_event,
    grafana_webhook,
)


def test_fingerprint_is_prometheus_label_set_fingerprint() -> None:
    # grafana/alerting receivers/webhook/v1/webhook_test.go: labels alertname=alert1, lbl1=val1 -> fac0861a85de433a
    assert fingerprint({"alertname": "alert1", "lbl1": "val1"}) == "fac0861a85de433a"
    assert fingerprint({"lbl1": "val1", "alertname": "alert1"}) == "fac0861a85de433a"


def test_go_times() -> None:
    assert parse_time("2026-02-17T08:10:03.157076321Z") == datetime(2026, 2, 17, 8, 10, 3, 157076, UTC)
    assert parse_time("2021-10-12T09:51:03.157076+02:00") == datetime(2021, 10, 12, 7, 51, 3, 157076, UTC)
    assert parse_time("0001-01-01T00:00:00Z") is None
    assert parse_time("yesterday") is None


def test_grafana_webhook() -> None:
    n = parse_webhook(grafana_webhook(), "grafana")
    assert isinstance(n, Notification)
    (a,) = n.alerts
    assert (n.source, n.status, a.status, a.name) == ("grafana", "firing", "firing", "High error rate")
    assert a.fingerprint == FINGERPRINT and a.values == {"B": 12.0, "C": 1.0}
    assert a.starts_at == datetime(2026, 2, 17, 8, 10, 3, 157076, UTC) and a.ends_at is None
    assert a.generator_url.endswith("/alerting/grafana/rule-uid-1/view?orgId=1")
    resolved = parse_webhook(grafana_webhook("resolved"), "grafana")
    assert isinstance(resolved, Notification) and resolved.alerts[0].ends_at == datetime(
        2026, 2, 17, 8, 33, 3, tzinfo=UTC
    )


def test_alertmanager_webhook() -> None:
    n = parse_webhook(alertmanager_webhook(), "alertmanager")
    assert isinstance(n, Notification)
    (a,) = n.alerts
    assert a.labels["job"] == "api" and a.fingerprint == "7c4e1f2b9a0d3e55" and a.values == {}
    assert "g0.expr=" in a.generator_url


def test_grafana_slack_message_reads_labels_value_and_source() -> None:
    n = parse_slack_message(grafana_slack_event())
    assert isinstance(n, Notification)
    (a,) = n.alerts
    assert a.labels == LABELS and a.values == {"B": 12.0, "C": 1.0} and a.status == "firing"
    assert a.fingerprint == fingerprint(LABELS)  # the same key a webhook of the alert's labels gets
    assert a.annotations["summary"] == "5xx above 5% on lambda"
    assert a.generator_url == "http://grafana.example/alerting/grafana/rule-uid-1/view?orgId=1"
    assert "&matcher" in a.silence_url  # Slack's &amp; undone
    resolved = parse_slack_message(grafana_slack_event("resolved"))
    assert isinstance(resolved, Notification) and resolved.status == "resolved"
    assert resolved.alerts[0].fingerprint == a.fingerprint


def test_alertmanager_default_slack_message() -> None:
    n = parse_slack_message(alertmanager_slack_event())
    assert isinstance(n, Notification)
    assert n.alerts[0].name == "HighErrorRate" and n.status == "firing"


@pytest.mark.parametrize(
    "event",
    [
        {"type": "message", "user": "U1", "text": "[FIRING:1] a person pasting an alert", "ts": "1.0"},
        {"type": "message", "bot_id": "B1", "text": "deploy finished", "ts": "1.0"},
        {"type": "message", "subtype": "channel_join", "user": "U1", "ts": "1.0"},
    ],
)
def test_ordinary_messages_are_not_notifications(event: dict) -> None:
    assert parse_slack_message(event) is None


@pytest.mark.parametrize(
    "event",
    [
        {"type": "message", "bot_id": "B1", "text": "ALERT: disk firing on db-1", "ts": "1.0"},
        {"type": "message", "bot_id": "B1", "attachments": [{"title": "Alert resolved", "text": "x"}], "ts": "1"},
    ],
)
def test_alert_like_bot_messages_are_unreadable(event: dict) -> None:
    assert isinstance(parse_slack_message(event), Unreadable)


@pytest.mark.parametrize(
    "body",
    [None, [], "text", {"alerts": "x"}, {"alerts": [1, {"labels": "x"}]}, {"alerts": [{"labels": {"a": "b"}}]}],
)
def test_bad_webhooks_are_unreadable(body: object) -> None:
    out = parse_webhook(body, "grafana")
    assert isinstance(out, Unreadable) and out.what
