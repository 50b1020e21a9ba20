"""get_alerts: firing and pending Grafana-managed rules with their instances, queries and silences."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from skills.grafana.client import GrafanaClient
from tests.fakes.grafana import FakeGrafana


def rule(name: str, state: str, *, instances: list[dict] | None = None, **extra) -> dict:
    return {
        "name": name,
        "state": state,
        "type": "alerting",
        "health": "ok",
        "labels": {"team": "sre"},
        "annotations": {"summary": f"{name} summary"},
        "alerts": instances or [],
        "duration": 300,
        **extra,
    }


QUERY = json.dumps(
    [
        {
            "refId": "A",
            "datasourceUid": "loki-uid",
            "model": {
                "expr": 'sum(count_over_time({source="lambda"} |= "error" [5m]))',
                "datasource": {"type": "loki", "uid": "loki-uid"},
            },
        },
        {"refId": "B", "datasourceUid": "__expr__", "model": {"expression": "A", "type": "threshold"}},
    ]
)


@pytest.fixture
async def grafana() -> AsyncIterator[FakeGrafana]:
    async with FakeGrafana() as fake:
        fake.alert_groups = [
            {
                "name": "vercel",
                "file": "MochaCare",
                "interval": 60,
                "rules": [
                    rule("Quiet", "inactive"),
                    rule(
                        "Error spike",
                        "pending",
                        instances=[
                            {
                                "labels": {"source": "edge"},
                                "state": "Pending",
                                "activeAt": "2026-02-17T08:05:00Z",
                                "value": "12",
                            }
                        ],
                    ),
                    rule(
                        "High error rate",
                        "firing",
                        query=QUERY,
                        instances=[
                            {
                                "labels": {"source": "lambda"},
                                "state": "Alerting",
                                "activeAt": "2026-02-17T08:10:00Z",
                                "value": "A=42",
                            },
                            {
                                "labels": {"source": "edge"},
                                "state": "Alerting",
                                "activeAt": "2026-02-17T08:00:00Z",
                                "value": "A=7",
                            },
                            {"labels": {"source": "static"}, "state": "Normal", "activeAt": "0001-01-01T00:00:00Z"},
                        ],
                    ),
                    {"name": "recording", "type": "recording", "health": "ok"},
                ],
            }
        ]
        yield fake


async def test_firing_then_pending_with_their_rules(grafana: FakeGrafana, client: GrafanaClient) -> None:
    result = await client.alerts()
    assert (result["firing"], result["pending"], result["rules_total"]) == (1, 1, 3)
    firing, pending = result["alerts"]
    assert firing["rule"] == "High error rate" and firing["state"] == "firing"
    assert firing["folder"] == "MochaCare" and firing["group"] == "vercel"
    assert firing["summary"] == "High error rate summary" and firing["labels"] == {"team": "sre"}
    assert firing["active_at"] == "2026-02-17T08:00:00Z" and firing["instances"] == 2
    assert firing["queries"] == ['sum(count_over_time({source="lambda"} |= "error" [5m]))']
    assert "explore?schemaVersion=1" in firing["explore_url"]
    assert [e["labels"]["source"] for e in firing["examples"]] == ["lambda", "edge"]
    assert pending["rule"] == "Error spike" and pending["instances"] == 1
    assert result["alerting_url"] == f"{grafana.url}/alerting/list"
    assert "/api/alertmanager/grafana/api/v2/alerts" in grafana.paths()


async def test_silenced_alerts_are_marked(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.am_alerts = [
        {"labels": {"alertname": "High error rate"}, "status": {"state": "suppressed", "silencedBy": ["s1"]}},
        {"labels": {"alertname": "Error spike"}, "status": {"state": "active", "silencedBy": []}},
    ]
    result = await client.alerts()
    by_rule = {a["rule"]: a for a in result["alerts"]}
    assert by_rule["High error rate"].get("silenced") is True
    assert "silenced" not in by_rule["Error spike"]
    assert result["silenced_total"] == 1


async def test_alertmanager_failure_does_not_hide_the_rules(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.fail_next(500, 5, path_prefix="/api/alertmanager")
    result = await client.alerts()
    assert result["firing"] == 1 and "silenced_total" not in result


async def test_instance_states_count_when_the_rule_state_is_missing(
    grafana: FakeGrafana, client: GrafanaClient
) -> None:
    grafana.alert_groups = [
        {
            "name": "g",
            "file": "f",
            "rules": [rule("Legacy", "", instances=[{"labels": {}, "state": "Alerting (NoData)"}])],
        }
    ]
    result = await client.alerts()
    assert result["firing"] == 1 and result["alerts"][0]["rule"] == "Legacy"


async def test_nothing_active_says_so(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.alert_groups = [{"name": "g", "file": "f", "rules": [rule("Quiet", "inactive")]}]
    calm = await client.alerts()
    assert calm["empty"] is True and calm["alerts"] == [] and "1 alert rules" in calm["hint"]
    grafana.alert_groups = []
    none = await client.alerts()
    assert none["empty"] is True and "no Grafana-managed alert rules" in none["hint"]
