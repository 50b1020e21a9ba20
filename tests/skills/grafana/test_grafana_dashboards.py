"""Dashboards: create from the template with real UIDs, update on the same title, summaries, search, errors."""

from __future__ import annotations

import json

import pytest

from skills.base import SkillError
from skills.grafana.client import GrafanaClient
from skills.grafana.dashboards import TEMPLATES, fill, load_template, placeholders
from tests.fakes.grafana import LOKI_UID, FakeGrafana, default_datasources

PANELS = ["Error Count", "Error Rate", "Log Stream", "Request Summary"]


def stored_uids(grafana: FakeGrafana, uid: str) -> list[str]:
    """Every data-source uid the stored dashboard's panels and targets name."""
    dash = grafana.dashboards[uid]["dashboard"]
    uids = []
    for panel in dash["panels"]:
        uids.append(panel["datasource"]["uid"])
        uids += [t["datasource"]["uid"] for t in panel["targets"]]
    return uids


def test_template_has_four_loki_panels_with_placeholders() -> None:
    template = load_template("vercel-overview.json")
    assert [p["title"] for p in template["panels"]] == PANELS
    assert all(p["datasource"] == {"type": "loki", "uid": "${DS_LOKI}"} for p in template["panels"])
    assert placeholders(template) == {"DS_LOKI": "loki"}
    assert (TEMPLATES / "vercel-overview.json").is_file()


async def test_create_then_update_on_the_same_title(grafana: FakeGrafana, client: GrafanaClient) -> None:
    first = await client.create_dashboard("MochaCare Overview", "vercel-overview.json")
    assert first["status"] == "created" and first["version"] == 1
    assert first["url"] == f"{grafana.url}/d/{first['uid']}/mochacare-overview"
    assert [p["title"] for p in first["panels"]] == PANELS
    assert {p["datasource_uid"] for p in first["panels"]} == {LOKI_UID}
    assert first["datasources"] == {"DS_LOKI": LOKI_UID}
    uids = stored_uids(grafana, first["uid"])
    assert len(uids) == 8 and set(uids) == {LOKI_UID}
    assert "${DS_" not in json.dumps(grafana.dashboards[first["uid"]])
    post = [r for r in grafana.requests if r.method == "POST"][-1].json()
    assert post["overwrite"] is False and post["dashboard"]["id"] is None
    assert "__inputs" not in post["dashboard"]

    second = await client.create_dashboard("MochaCare Overview", "vercel-overview.json")
    assert second["status"] == "updated" and second["uid"] == first["uid"] and second["version"] == 2
    assert len(grafana.dashboards) == 1
    post = [r for r in grafana.requests if r.method == "POST"][-1].json()
    assert post["overwrite"] is True and post["dashboard"]["uid"] == first["uid"]


async def test_explicit_loki_uid_is_used_and_checked(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.datasources.append(dict(default_datasources()[1], id=9, uid="loki-two", name="second"))
    made = await client.create_dashboard("Two", loki_uid="loki-two")
    assert set(stored_uids(grafana, made["uid"])) == {"loki-two"}
    with pytest.raises(SkillError) as caught:
        await client.create_dashboard("Three", loki_uid="does-not-exist")
    assert "does-not-exist" in caught.value.message and "No data" in caught.value.hint
    with pytest.raises(SkillError) as caught:
        await client.create_dashboard("Four", loki_uid="prom-uid")
    assert "not Loki" in caught.value.message


async def test_missing_loki_is_a_clear_error(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.datasources = [d for d in grafana.datasources if d["type"] != "loki"]
    with pytest.raises(SkillError) as caught:
        await client.create_dashboard("MochaCare Overview")
    assert caught.value.message == "no Loki data source, which the template needs"
    assert "--loki-uid" in caught.value.hint
    assert not any(r.method == "POST" for r in grafana.requests)


def test_unknown_placeholder_and_template_names() -> None:
    with pytest.raises(SkillError) as caught:
        placeholders({"panels": [{"datasource": {"uid": "${DS_ELASTIC}"}}]})
    assert "${DS_ELASTIC}" in caught.value.message and "${DS_LOKI}" in caught.value.hint
    declared = {"__inputs": [{"name": "DS_MY_LOGS", "type": "datasource", "pluginId": "loki"}], "x": "${DS_MY_LOGS}"}
    assert placeholders(declared) == {"DS_MY_LOGS": "loki"}
    with pytest.raises(SkillError) as caught:
        load_template("nope.json")
    assert "vercel-overview.json" in caught.value.hint
    with pytest.raises(SkillError):
        load_template("../../settings.py")


def test_fill_turns_bare_placeholders_into_references() -> None:
    uids = {"DS_LOKI": ("loki", "abc")}
    out = fill({"datasource": "${DS_LOKI}", "targets": [{"expr": "x", "datasource": {"uid": "${DS_LOKI}"}}]}, uids)
    assert out == {
        "datasource": {"type": "loki", "uid": "abc"},
        "targets": [{"expr": "x", "datasource": {"uid": "abc"}}],
    }


async def test_selector_is_discovered_or_given(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.add_logs({"service_name": "mochacare-web"}, ["hello"])
    made = await client.create_dashboard("Discovered")
    assert made["selector"] == '{service_name=~".+"}'
    var = grafana.dashboards[made["uid"]]["dashboard"]["templating"]["list"][0]
    assert var["current"]["value"] == '{service_name=~".+"}'
    given = await client.create_dashboard("Given", selector='{app="web"}')
    assert given["selector"] == '{app="web"}'


async def test_get_dashboard_summarises_panels_and_queries(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.dashboards["abc"] = {
        "dashboard": {
            "id": 7,
            "uid": "abc",
            "title": "API",
            "version": 3,
            "panels": [
                {
                    "type": "row",
                    "title": "Row",
                    "panels": [
                        {
                            "id": 2,
                            "type": "timeseries",
                            "title": "Latency",
                            "datasource": {"uid": "prom-uid"},
                            "targets": [{"refId": "A", "expr": "histogram_quantile(0.99, x)"}],
                        },
                    ],
                },
                {
                    "id": 3,
                    "type": "logs",
                    "title": "Logs",
                    "datasource": "loki-uid",
                    "targets": [{"refId": "A", "expr": '{app="api"}', "datasource": {"uid": "loki-uid"}}],
                },
            ],
            "templating": {"list": [{"name": "env", "type": "custom", "query": "prod,staging"}]},
        },
        "meta": {"url": "/d/abc/api", "slug": "api", "folderTitle": "Team"},
    }
    summary = await client.get_dashboard("abc")
    assert summary["url"] == f"{grafana.url}/d/abc/api" and summary["folder"] == "Team"
    assert [(p["title"], p["datasource"]) for p in summary["panels"]] == [("Latency", "prom-uid"), ("Logs", "loki-uid")]
    assert summary["panels"][0]["queries"] == [{"ref": "A", "query": "histogram_quantile(0.99, x)", "datasource": None}]
    assert summary["variables"] == [{"name": "env", "type": "custom", "query": "prod,staging"}]
    with pytest.raises(SkillError) as caught:
        await client.get_dashboard("missing")
    assert caught.value.status == 404 and "search_dashboards" in caught.value.hint


async def test_search(grafana: FakeGrafana, client: GrafanaClient) -> None:
    empty = await client.search_dashboards()
    assert empty["empty"] is True and "create_dashboard" in empty["hint"]
    await client.create_dashboard("MochaCare Overview")
    await client.create_dashboard("Other")
    found = await client.search_dashboards("mocha")
    assert [d["title"] for d in found["dashboards"]] == ["MochaCare Overview"]
    assert found["dashboards"][0]["folder"] == "General"
    request = [r for r in grafana.requests if r.path == "/api/search"][-1]
    assert request.param("type") == "dash-db" and request.param("query") == "mocha"
    capped = await client.search_dashboards("", limit=1)
    assert capped["truncated"] is True and "limit of 1" in capped["hint"]
    none = await client.search_dashboards("zzz")
    assert none["empty"] is True and "zzz" in none["hint"]
