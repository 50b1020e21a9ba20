"""resolve_subject and find_metrics against the fake Grafana: names matched to the label values that exist,
metrics found by keyword with their metadata, and windows given as start/end."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from skills.grafana.client import GrafanaClient
from skills.grafana.metric_search import needles
from skills.grafana.subjects import how_matches, matcher
from tests.fakes.grafana import FakeGrafana


def seed(g: FakeGrafana) -> None:
    g.add_logs({"app": "api-server", "namespace": "prod", "pod": "api-server-7d9f8-x2b"}, ["GET /orders 503"] * 3)
    g.add_logs({"app": "checkout", "namespace": "prod", "pod": "checkout-5c6d-q1"}, ["ok"] * 2)
    now = time.time()
    g.add_series(
        {"__name__": "container_memory_working_set_bytes", "pod": "robusta-runner-1", "namespace": "ops"}, [(now, 1e8)]
    )
    g.add_series({"__name__": "container_cpu_usage_seconds_total", "pod": "api-server-7d9f8-x2b"}, [(now, 5)])
    g.add_series({"__name__": "process_resident_memory_bytes", "job": "scheduler"}, [(now, 2e8)])
    g.add_series({"__name__": "http_request_duration_seconds_bucket", "le": "0.5", "job": "api"}, [(now, 3)])
    g.prom_metadata = {
        "container_memory_working_set_bytes": [{"type": "gauge", "help": "Current working set in bytes.", "unit": ""}],
        "container_cpu_usage_seconds_total": [{"type": "counter", "help": "Cumulative cpu time consumed.", "unit": ""}],
        "process_resident_memory_bytes": [{"type": "gauge", "help": "Resident memory size in bytes.", "unit": ""}],
        "http_request_duration_seconds": [{"type": "histogram", "help": "Request latency.", "unit": ""}],
    }


@pytest.mark.parametrize(
    ("name", "value", "how"),
    [
        ("api-server", "api-server", "exact"),
        ("API server", "api-server", "exact"),
        ("apiserver", "api_server", "exact"),
        ("checkout", "checkout-5c6d-q1", "prefix"),
        ("checkout", "prod/checkout", "part"),
        ("robusta-runner", "robusta-runner-1", "prefix"),
        ("check", "checkout", None),
        ("api", "payments-api", "part"),
        ("scheduler", "api-server", None),
    ],
)
def test_names_match_label_values(name: str, value: str, how: str | None) -> None:
    assert how_matches(name, value) == how


def test_matchers_escape_regex_values() -> None:
    assert matcher("app", ["api-server"]) == 'app="api-server"'
    assert matcher("pod", ["a.1", "b+2"]) == 'pod=~"a\\\\.1|b\\\\+2"'
    assert "working_set" in needles("memory") and needles("cpu") == ("cpu",)


async def test_resolve_subject_uses_the_labels_the_instance_has(grafana: FakeGrafana, client: GrafanaClient) -> None:
    seed(grafana)
    found = await client.request("GET", "/api/health")  # warm nothing: the resolve below must discover by itself
    assert found
    from skills.grafana import subjects

    hit = await subjects.resolve(client, "api-server", since="1h")
    assert hit["found"] is True
    assert hit["selector"] == '{app="api-server"}'
    assert hit["prometheus_matcher"] == 'pod="api-server-7d9f8-x2b"'
    assert {m["label"] for m in hit["matches"]} >= {"app", "pod"}
    pods = await subjects.resolve(client, "checkout", since="1h", prefer=("pod",))
    assert pods["selector"] == '{app="checkout"}'  # an exact match wins over a preferred prefix match
    scheduler = await subjects.resolve(client, "scheduler", since="1h")
    assert scheduler["prometheus_matcher"] == 'job="scheduler"' and "selector" not in scheduler
    missing = await subjects.resolve(client, "payments", since="1h")
    assert missing["found"] is False and "payments" in missing["hint"]
    assert "app" in missing["labels_checked"]["loki"] and "job" in missing["labels_checked"]["prometheus"]
    asked = [r.path for r in grafana.requests]
    assert any(p.endswith("/loki/api/v1/label/app/values") for p in asked)
    assert any(p.endswith("/api/v1/label/job/values") for p in asked)
    assert not any(p.endswith("/loki/api/v1/label/service_name/values") for p in asked)  # not a label here


async def test_find_metrics_by_keyword_with_type_and_help(grafana: FakeGrafana, client: GrafanaClient) -> None:
    seed(grafana)
    from skills.grafana import metric_search

    memory = await metric_search.find(client, "memory")
    names = [m["name"] for m in memory["metrics"]]
    assert names == ["process_resident_memory_bytes", "container_memory_working_set_bytes"]
    assert memory["metrics"][0]["type"] == "gauge" and "Resident" in memory["metrics"][0]["help"]
    latency = await metric_search.find(client, "latency")
    assert latency["metrics"][0]["name"] == "http_request_duration_seconds"
    assert latency["metrics"][0]["series_names"] == ["http_request_duration_seconds_bucket"]
    none = await metric_search.find(client, "kafka lag")
    assert none["empty"] and none["metrics"] == []
    assert any(r.path.endswith("/api/v1/metadata") for r in grafana.requests)


async def test_queries_take_an_absolute_window(grafana: FakeGrafana, client: GrafanaClient) -> None:
    end = datetime.now(UTC) - timedelta(hours=2)
    start = end - timedelta(hours=1)
    grafana.add_logs({"app": "old"}, [json.dumps({"message": "Error: old"})], end_ns=int((end.timestamp() - 60) * 1e9))
    grafana.add_logs({"app": "new"}, [json.dumps({"message": "Error: new"})])
    result = await client.loki_error_patterns('{app=~".+"}', start=start.isoformat(), end=end.isoformat())
    assert [p["example"] for p in result["patterns"]] == ["Error: old"]
    rng = grafana.requests[-1]
    assert int(rng.param("end") or 0) // 10**9 == int(end.timestamp())
