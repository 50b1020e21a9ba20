"""The skill's tools: names, JSON schemas, validation, bounded results with explore links; open_skill credentials."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest

from skills.base import Credential, SkillContext, SkillError, ToolInputError
from skills.grafana import GrafanaSkill, open_skill
from skills.http import RetryPolicy
from skills.results import serialized_size
from storage.services import Storage
from storage.teams import DEFAULT_TEAM_ID
from tests.fakes.grafana import LOKI_UID, FakeGrafana

NAMES = {
    "check",
    "list_datasources",
    "search_dashboards",
    "get_dashboard",
    "query_prometheus",
    "list_metric_names",
    "find_metrics",
    "resolve_subject",
    "list_label_values",
    "query_loki",
    "list_loki_labels",
    "list_loki_label_values",
    "loki_error_patterns",
    "get_alerts",
    "create_dashboard",
}


@pytest.fixture
async def grafana() -> AsyncIterator[FakeGrafana]:
    async with FakeGrafana() as fake:
        now = time.time()
        for i in range(50):
            fake.add_series({"__name__": "http_requests_total", "route": f"/api/route/{i}", "code": "200"}, [(now, i)])
        lines = [json.dumps({"level": "error", "message": f"TimeoutError: upstream {i} timed out"}) for i in range(300)]
        fake.add_logs({"source": "lambda", "host": "mochacare.vercel.app"}, lines, gap_s=1)
        fake.alert_groups = [
            {
                "name": "vercel",
                "file": "MochaCare",
                "rules": [
                    {
                        "name": "High error rate",
                        "state": "firing",
                        "type": "alerting",
                        "labels": {"severity": "page"},
                        "annotations": {"summary": "5xx above 5%"},
                        "alerts": [{"labels": {}, "state": "Alerting", "activeAt": "2026-02-17T08:00:00Z"}],
                    }
                ],
            }
        ]
        yield fake


def skill_for(grafana: FakeGrafana, token: str | None = None) -> GrafanaSkill:
    return GrafanaSkill(
        Credential(grafana.url, "GRAFANA_URL"),
        Credential(token or grafana.token, "GRAFANA_TOKEN"),
        policy=RetryPolicy(backoff=0.0),
    )


@pytest.fixture
async def skill(grafana: FakeGrafana) -> AsyncIterator[GrafanaSkill]:
    s = skill_for(grafana)
    yield s
    await s.aclose()


def test_tools_are_declared_with_valid_schemas() -> None:
    skill = GrafanaSkill(Credential(None, "GRAFANA_URL"), Credential(None, "GRAFANA_TOKEN"))
    tools = {t.name: t for t in skill.tools()}
    assert set(tools) == NAMES
    assert (skill.name, skill.title) == ("grafana", "Grafana")
    for tool in tools.values():
        assert tool.skill == "grafana" and tool.qualified_name == f"grafana_{tool.name}"
        assert tool.read_only is (tool.name != "create_dashboard")
        assert len(tool.description) > 30
        schema = tool.input_schema()
        assert schema["type"] == "object"
        assert schema["additionalProperties"] is False
        json.dumps(schema)
        for name, prop in schema["properties"].items():
            assert "type" in prop or "anyOf" in prop or "enum" in prop or "$ref" in prop, (tool.name, name)
        for name in schema.get("required", []):
            assert name in schema["properties"]
    assert tools["query_loki"].input_schema()["properties"]["limit"]["maximum"] == 1000
    assert tools["query_loki"].input_schema()["required"] == ["query"]
    assert tools["create_dashboard"].input_schema()["required"] == ["title"]


def test_arguments_are_validated() -> None:
    skill = GrafanaSkill(Credential(None, "GRAFANA_URL"), Credential(None, "GRAFANA_TOKEN"))
    tools = {t.name: t for t in skill.tools()}
    with pytest.raises(ToolInputError, match="since"):
        tools["query_loki"].parse({"query": '{a="b"}', "since": "yesterday"})
    with pytest.raises(ToolInputError, match="limit"):
        tools["query_loki"].parse({"query": '{a="b"}', "limit": 5000})
    with pytest.raises(ToolInputError, match="direction"):
        tools["query_loki"].parse({"query": '{a="b"}', "direction": "sideways"})
    with pytest.raises(ToolInputError, match="bogus"):
        tools["get_alerts"].parse({"bogus": 1})
    with pytest.raises(ToolInputError, match="expr"):
        tools["query_prometheus"].parse({})
    assert tools["query_prometheus"].parse({"expr": "up", "since": "1h30m", "step": "1m"}).since == "1h30m"


async def test_unconfigured_skill_names_what_to_set() -> None:
    skill = GrafanaSkill(Credential("https://x.grafana.net", "GRAFANA_URL"), Credential(None, "GRAFANA_TOKEN"))
    assert skill.configured is False and skill.secrets() == []
    tools = {t.name: t for t in skill.tools()}
    with pytest.raises(SkillError) as caught:
        await tools["list_datasources"].call({})
    assert "GRAFANA_TOKEN" in caught.value.one_line()
    await skill.aclose()


async def test_every_tool_answers_within_the_budget(grafana: FakeGrafana, skill: GrafanaSkill) -> None:
    tools = {t.name: t for t in skill.tools()}
    created = await tools["create_dashboard"].call({"title": "MochaCare Overview"})
    calls = {
        "check": {},
        "list_datasources": {},
        "search_dashboards": {"query": "mocha"},
        "get_dashboard": {"uid": created["uid"]},
        "query_prometheus": {"expr": "http_requests_total", "since": "1h"},
        "list_metric_names": {},
        "list_label_values": {"label": "route"},
        "query_loki": {"query": '{source="lambda"}', "limit": 1000},
        "list_loki_labels": {},
        "list_loki_label_values": {"label": "source"},
        "loki_error_patterns": {"query": '{source="lambda"}'},
        "get_alerts": {},
    }
    results = {name: await tools[name].call(args) for name, args in calls.items()}
    for name, result in results.items():
        assert serialized_size(result) <= 8192, name
        json.dumps(result, allow_nan=False)
    for name in ("query_prometheus", "query_loki", "loki_error_patterns"):
        assert results[name]["explore_url"].startswith(grafana.url + "/explore?schemaVersion=1&panes=")
    assert results["query_loki"]["truncated"] is True and results["query_loki"]["hint"]
    assert results["check"]["readiness"]["status"] == "ready"
    assert results["check"]["version"] == "11.3.0" and results["check"]["user"]["login"] == "sa-1-sitrep"
    assert results["get_alerts"]["firing"] == 1
    assert results["search_dashboards"]["dashboards"][0]["uid"] == created["uid"]
    assert {p["datasource"] for p in results["get_dashboard"]["panels"]} == {LOKI_UID}


async def test_secrets_and_close(grafana: FakeGrafana) -> None:
    skill = skill_for(grafana)
    assert skill.secrets() == [grafana.token]
    client = skill.client
    await skill.aclose()
    assert client._http.is_closed


async def test_open_skill_prefers_stored_credentials_and_config(
    grafana: FakeGrafana, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    await storage.credentials.set(DEFAULT_TEAM_ID, "grafana", "url", grafana.url, "test")
    await storage.credentials.set(DEFAULT_TEAM_ID, "grafana", "token", "stored-but-wrong", "test")
    team = await storage.config.patch(DEFAULT_TEAM_ID, {"grafana": {"datasources": {"loki": "pinned-loki"}}}, "test")
    from settings import Settings

    settings = Settings.from_env({"GRAFANA_URL": "http://env.invalid", "GRAFANA_TOKEN": grafana.token})
    skill = await open_skill(
        SkillContext(settings=settings, team=team, credentials=storage.credentials, storage=storage)
    )
    try:
        assert skill.url.value == grafana.url and skill.token.value == "stored-but-wrong"
        assert await skill.client.loki_uid() == "pinned-loki"
        with pytest.raises(SkillError) as caught:
            await skill.client.datasources()
        assert "stored in sitrep" in caught.value.hint
    finally:
        await skill.aclose()


async def test_open_skill_falls_back_to_the_environment(grafana: FakeGrafana, storage: Storage) -> None:
    from settings import Settings

    team = await storage.teams.get(DEFAULT_TEAM_ID)
    settings = Settings.from_env({"GRAFANA_URL": grafana.url, "GRAFANA_TOKEN": grafana.token})
    skill = await open_skill(
        SkillContext(settings=settings, team=team, credentials=storage.credentials, storage=storage)
    )
    try:
        assert skill.token.source == "GRAFANA_TOKEN"
        assert (await skill.readiness()).ready
    finally:
        await skill.aclose()


async def test_check_answers_even_when_not_configured() -> None:
    skill = GrafanaSkill(Credential(None, "GRAFANA_URL"), Credential(None, "GRAFANA_TOKEN"))
    tools = {t.name: t for t in skill.tools()}
    result = await tools["check"].call({})
    assert result["readiness"]["status"] == "not configured"
    assert "GRAFANA_URL" in result["readiness"]["missing"]


async def test_list_datasources_is_bounded(grafana: FakeGrafana, skill: GrafanaSkill) -> None:
    base = grafana.datasources[0]
    grafana.datasources += [dict(base, id=10 + i, uid=f"ds-{i}", name=f"prometheus-number-{i}" * 3) for i in range(200)]
    tools = {t.name: t for t in skill.tools()}
    result = await tools["list_datasources"].call({})
    assert serialized_size(result) <= 8192
    assert result["truncated"] is True and result["total"] == 202
    only_loki = await tools["list_datasources"].call({"type": "loki"})
    assert [d["uid"] for d in only_loki["datasources"]] == [LOKI_UID]
    assert (await tools["list_datasources"].call({"type": "elasticsearch"}))["empty"] is True
