"""Alert notifications as Grafana and Alertmanager send them, shaped after their documentation and source:

- Grafana's webhook contact point (docs: alerting/configure-notifications/.../webhook-notifier, "Webhook JSON
  payload"; grafana/alerting receivers/webhook/v1: version "1", orgId, title, state, message, values, valueString).
- Alertmanager's webhook_config (prometheus.io/docs/alerting/latest/configuration/#webhook_config: version "4").
- The Slack message event Grafana's Slack contact point produces (grafana/alerting receivers/slack/v1: one
  attachment, title from `default.title`, text from `default.message`, footer "Grafana v…", color #D63232) and
  Alertmanager's default Slack message (template/default.tmpl: title and title_link, no text, color danger).
"""

from __future__ import annotations

import copy
from typing import Any

GRAFANA = "http://grafana.example"
STARTS = "2026-02-17T08:10:03.157076321Z"  # Go writes nanoseconds
LABELS = {"alertname": "High error rate", "source": "lambda", "team": "sre"}
FINGERPRINT = "a2c3cbb7d9c3a6f3"  # what Grafana would send; any stable value works for sitrep


def grafana_webhook(status: str = "firing", **alert: Any) -> dict[str, Any]:
    one = {
        "status": status,
        "labels": dict(LABELS),
        "annotations": {"summary": "5xx above 5% on lambda", "runbook_url": "https://runbooks.example/errors"},
        "startsAt": STARTS,
        "endsAt": "2026-02-17T08:33:03Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": f"{GRAFANA}/alerting/grafana/rule-uid-1/view?orgId=1",
        "fingerprint": FINGERPRINT,
        "silenceURL": f"{GRAFANA}/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DHigh+error+rate",
        "dashboardURL": "",
        "panelURL": "",
        "values": {"B": 12.0, "C": 1},
        "valueString": "[ var='B' labels={source=lambda} value=12 ], [ var='C' labels={source=lambda} value=1 ]",
    }
    one.update(alert)
    return {
        "receiver": "sitrep",
        "status": status,
        "orgId": 1,
        "alerts": [one],
        "groupLabels": {"alertname": "High error rate"},
        "commonLabels": dict(LABELS),
        "commonAnnotations": dict(one["annotations"]),
        "externalURL": f"{GRAFANA}/",
        "version": "1",
        "groupKey": '{}/{}:{alertname="High error rate"}',
        "truncatedAlerts": 0,
        "title": f"[{status.upper()}{':1' if status == 'firing' else ''}] High error rate (lambda sre)",
        "state": "alerting" if status == "firing" else "ok",
        "message": "**Firing**\n\nValue: B=12, C=1\nLabels:\n - alertname = High error rate\n",
    }


def alertmanager_webhook(status: str = "firing") -> dict[str, Any]:
    expr = 'sum(rate(http_requests_total{code=~"5.."}[5m])) > 1'
    return {
        "version": "4",
        "groupKey": '{}:{alertname="HighErrorRate"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "sitrep",
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": {"alertname": "HighErrorRate", "job": "api", "severity": "page"},
        "commonAnnotations": {"summary": "API 5xx rate high"},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": "HighErrorRate", "job": "api", "severity": "page"},
                "annotations": {"summary": "API 5xx rate high"},
                "startsAt": "2026-02-17T08:10:00.000000001Z",
                "endsAt": "2026-02-17T08:40:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example:9090/graph?g0.expr="
                + expr.replace("{", "%7B").replace("}", "%7D").replace('"', "%22").replace(" ", "+")
                + "&g0.tab=1",
                "fingerprint": "7c4e1f2b9a0d3e55",
            }
        ],
    }


GRAFANA_SLACK_TEXT = (
    "**Firing**\n\nValue: B=12, C=1\nLabels:\n - alertname = High error rate\n - source = lambda\n - team = sre\n"
    "Annotations:\n - summary = 5xx above 5% on lambda\n"
    f"Source: {GRAFANA}/alerting/grafana/rule-uid-1/view?orgId=1\n"
    f"Silence: {GRAFANA}/alerting/silence/new?alertmanager=grafana&amp;matcher=alertname%3DHigh+error+rate\n"
)


def grafana_slack_event(status: str = "firing", *, ts: str = "1771315803.000100", channel: str = "C0ALERTS") -> dict:
    """The `message` event a channel member receives when Grafana posts with chat.postMessage (a bot token)."""
    text = GRAFANA_SLACK_TEXT if status == "firing" else GRAFANA_SLACK_TEXT.replace("**Firing**", "**Resolved**")
    title = (
        "[FIRING:1] High error rate (lambda sre)" if status == "firing" else "[RESOLVED] High error rate (lambda sre)"
    )
    return {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": "B0GRAFANA",
        "username": "Grafana",
        "text": "",
        "ts": ts,
        "channel": channel,
        "channel_type": "channel",
        "attachments": [
            {
                "id": 1,
                "color": "D63232" if status == "firing" else "36a64f",
                "fallback": title,
                "title": title,
                "title_link": f"{GRAFANA}/alerting/grafana/rule-uid-1/view?orgId=1",
                "text": text,
                "footer": "Grafana v11.5.2",
                "footer_icon": "https://grafana.com/static/assets/img/fav32.png",
                "ts": 1771315803,
            }
        ],
    }


def alertmanager_slack_event(ts: str = "1771315900.000200", channel: str = "C0ALERTS") -> dict:
    return {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": "B0AM",
        "text": "",
        "ts": ts,
        "channel": channel,
        "attachments": [
            {
                "id": 1,
                "color": "danger",
                "fallback": "[FIRING:1] HighErrorRate api page | http://alertmanager.example:9093/#/alerts?receiver=slack",
                "title": "[FIRING:1] HighErrorRate api page",
                "title_link": "http://alertmanager.example:9093/#/alerts?receiver=slack",
                "text": "",
            }
        ],
    }


def variant(payload: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(payload)
    out.update(changes)
    return out
