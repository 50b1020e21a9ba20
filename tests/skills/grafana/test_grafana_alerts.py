"""get_alerts: firing and pending Grafana-managed rules with their instances, queries and silences."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import pytest

from skills.grafana import rule_queries
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


LOKI_EXPR = 'sum(count_over_time({source="lambda"} |= "error" | json | level="error" [5m]))'
PROM_EXPR = 'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))'


def data_query(ref: str, uid: str, ds_type: str, expr: str) -> dict:
    return {"refId": ref, "datasourceUid": uid, "model": {"expr": expr, "datasource": {"type": ds_type, "uid": uid}}}


def expression(ref: str, **model) -> dict:
    return {"refId": ref, "datasourceUid": "__expr__", "model": {"refId": ref, **model}}


# The rule model's queries; the fake serves them as Grafana's rules API does (query joined by " | ").
DATA = [
    data_query("A", "loki-uid", "loki", LOKI_EXPR),
    expression("B", type="threshold", expression="A"),
]


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
                        data=DATA,
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
    assert firing["queries"] == [LOKI_EXPR]
    assert explore_pane(firing["explore_url"]) == ("loki-uid", "loki", LOKI_EXPR)
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


def explore_pane(url: str) -> tuple[str, str, str]:
    """(data-source uid, type, expr) of an Explore link's first query."""
    pane = json.loads(parse_qs(urlsplit(url).query)["panes"][0])["a"]
    query = pane["queries"][0]
    return pane["datasource"], query["datasource"]["type"], query["expr"]


def firing_rule(name: str, data: list[dict]) -> dict:
    return rule(name, "firing", data=data, instances=[{"labels": {}, "state": "Alerting", "value": "1"}])


async def test_every_firing_alert_links_to_its_own_expression_in_its_data_source(
    grafana: FakeGrafana, client: GrafanaClient
) -> None:
    grafana.alert_groups = [
        {
            "name": "g",
            "file": "f",
            "rules": [
                firing_rule("Logs", [data_query("A", "loki-uid", "loki", LOKI_EXPR), expression("B", type="reduce")]),
                firing_rule(
                    "5xx ratio",
                    [
                        data_query("A", "prom-uid", "prometheus", PROM_EXPR),
                        expression("B", type="math", expression="$A > 0.02"),
                    ],
                ),
                firing_rule(
                    "Both",
                    [
                        data_query("A", "prom-uid", "prometheus", "up == 0"),
                        data_query("B", "loki-uid", "loki", '{source="edge"} | logfmt | status >= 500'),
                        expression("C", type="math", expression="$A + $B"),
                    ],
                ),
            ],
        }
    ]
    result = await client.alerts()
    by_rule = {a["rule"]: a for a in result["alerts"]}
    assert explore_pane(by_rule["Logs"]["explore_url"]) == ("loki-uid", "loki", LOKI_EXPR)
    assert explore_pane(by_rule["5xx ratio"]["explore_url"]) == ("prom-uid", "prometheus", PROM_EXPR)
    assert by_rule["5xx ratio"]["queries"] == [PROM_EXPR]
    assert by_rule["Both"]["queries"] == ["up == 0", '{source="edge"} | logfmt | status >= 500']
    assert explore_pane(by_rule["Both"]["explore_url"]) == ("prom-uid", "prometheus", "up == 0")


async def test_a_rule_grafana_could_not_split_keeps_no_link(grafana: FakeGrafana, client: GrafanaClient) -> None:
    # A rule whose queries have no `expr` (another data-source type): Grafana sends the JSON of the model.
    sql = {"refId": "A", "datasourceUid": "pg-uid", "model": {"rawSql": "select 1"}}
    grafana.alert_groups = [{"name": "g", "file": "f", "rules": [firing_rule("SQL", [sql])]}]
    result = await client.alerts()
    (only,) = result["alerts"]
    assert only["rule"] == "SQL" and "explore_url" not in only


def test_rule_query_text_as_grafana_joins_it() -> None:
    parsed = rule_queries.parse("sum(rate(x[5m])) | $A > 0.02", ["prom-uid"])
    assert parsed == [rule_queries.RuleQuery("sum(rate(x[5m]))", "prom-uid")]
    logql = 'sum by (level) (count_over_time({app="x"} | json | level=~"error|fatal" [5m]))'
    assert rule_queries.parse(f"{logql} | up", ["loki-uid", "prom-uid"]) == [
        rule_queries.RuleQuery(logql, "loki-uid"),
        rule_queries.RuleQuery("up", "prom-uid"),
    ]
    assert rule_queries.parse("a | b", ["p1", "p2", "p3"]) == [rule_queries.RuleQuery("a"), rule_queries.RuleQuery("b")]
