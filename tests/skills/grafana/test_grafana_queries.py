"""Prometheus and Loki queries through the fake Grafana: summaries, steps, ns times, limits, bounds, explore links."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from skills.grafana.client import GrafanaClient
from skills.results import serialized_size
from tests.fakes.grafana import LOKI_UID, PROM_UID, FakeGrafana

BUDGET = 8192


def pane(url: str) -> dict:
    """The Explore pane a link opens."""
    parts = urlsplit(url)
    assert parts.path == "/explore"
    query = parse_qs(parts.query)
    assert query["schemaVersion"] == ["1"] and query["orgId"] == ["1"]
    return json.loads(query["panes"][0])["a"]


def last_proxy(grafana: FakeGrafana, suffix: str):
    return [r for r in grafana.requests if r.path.endswith(suffix)][-1]


# -- Prometheus -------------------------------------------------------------------------------------------


async def test_instant_query_summarises_each_series(grafana: FakeGrafana, client: GrafanaClient) -> None:
    now = time.time()
    grafana.add_series({"__name__": "up", "job": "db"}, [(now - 10, 0)])
    grafana.add_series({"__name__": "up", "job": "api"}, [(now - 10, 1)])
    result = await client.query_prometheus("up")
    assert result["kind"] == "instant" and result["result_type"] == "vector"
    assert result["series_total"] == 2 and result["truncated"] is False
    assert [(s["labels"]["job"], s["value"]) for s in result["series"]] == [("api", 1), ("db", 0)]
    request = last_proxy(grafana, "/api/v1/query")
    assert request.path == f"/api/datasources/proxy/uid/{PROM_UID}/api/v1/query"
    assert request.param("query") == "up" and request.param("time")
    explore = pane(result["explore_url"])
    assert explore["datasource"] == PROM_UID
    assert explore["queries"][0]["expr"] == "up"
    assert explore["queries"][0]["datasource"] == {"uid": PROM_UID, "type": "prometheus"}
    assert int(explore["range"]["from"]) < int(explore["range"]["to"])


async def test_range_query_step_is_widened_to_at_most_100_points(grafana: FakeGrafana, client: GrafanaClient) -> None:
    result = await client.query_prometheus("up", since="24h", step="15s")
    request = last_proxy(grafana, "/api/v1/query_range")
    start, end, step = (float(request.param(k)) for k in ("start", "end", "step"))
    assert step == result["step_seconds"] == 900
    assert (end - start) / step <= 100
    assert abs((end - start) - 86400) < 1
    wider = await client.query_prometheus("up", since="24h", step="2h")
    assert wider["step_seconds"] == 7200  # a coarser step than needed is kept
    default = await client.query_prometheus("up", since="1h")
    assert default["step_seconds"] == 60


async def test_range_query_gives_stats_and_small_value_lists(grafana: FakeGrafana, client: GrafanaClient) -> None:
    end = time.time()
    grafana.add_series({"__name__": "errors", "route": "/api"}, [(end - 60 * i, v) for i, v in enumerate([4, 2, 6, 8])])
    result = await client.query_prometheus("errors", since="10m", step="1m")
    (series,) = result["series"]
    assert series["labels"] == {"__name__": "errors", "route": "/api"}
    assert (series["min"], series["max"], series["last"]) == (2, 8, 4)
    assert series["avg"] == pytest.approx(5.0, abs=1.5)  # each sample lasts the 5 min lookback
    assert series["points"] == len(series["values"]) <= 11
    assert all(isinstance(v, int) for _, v in series["values"])
    explore = pane(result["explore_url"])
    assert explore["queries"][0]["range"] is True


async def test_many_series_are_cut_to_the_budget_with_a_hint(grafana: FakeGrafana, client: GrafanaClient) -> None:
    now = time.time()
    for i in range(400):
        grafana.add_series({"__name__": "req", "path": f"/api/v1/very/long/route/number/{i}"}, [(now - 5, i)])
    result = await client.query_prometheus("req")
    assert serialized_size(result) <= BUDGET
    assert result["truncated"] is True and result["series_total"] == 400
    assert 0 < result["shown"] < 400 and "topk" in result["hint"]
    assert result["series"][0]["value"] == 399  # the largest first


async def test_long_range_drops_value_lists_before_dropping_series(grafana: FakeGrafana, client: GrafanaClient) -> None:
    now = time.time()
    for i in range(40):
        grafana.add_series({"__name__": "lat", "pod": f"pod-{i}"}, [(now - 30 * k, k) for k in range(40)])
    result = await client.query_prometheus("lat", since="20m", step="1m")
    assert serialized_size(result) <= BUDGET
    assert result.get("values_omitted") is True
    assert result["series_total"] == 40


async def test_nan_values_keep_the_result_valid_json(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.add_series({"__name__": "ratio"}, [(time.time() - 5, "NaN")])
    result = await client.query_prometheus("ratio")
    json.dumps(result, allow_nan=False)
    assert result["series"][0]["value"] == "NaN"


async def test_empty_and_scalar_results(grafana: FakeGrafana, client: GrafanaClient) -> None:
    empty = await client.query_prometheus('up{job="nope"}')
    assert empty["empty"] is True and empty["series"] == []
    assert "list_metric_names" in empty["hint"]
    scalar = await client.query_prometheus("42")
    assert scalar["result_type"] == "scalar" and scalar["value"] == 42


async def test_metric_names_and_label_values(grafana: FakeGrafana, client: GrafanaClient) -> None:
    for name, job in [("http_requests_total", "api"), ("http_request_duration_seconds", "api"), ("up", "db")]:
        grafana.add_series({"__name__": name, "job": job}, [(time.time(), 1)])
    names = await client.list_metric_names("HTTP_req")
    assert names["names"] == ["http_request_duration_seconds", "http_requests_total"]
    assert (names["total"], names["matched"]) == (3, 2)
    assert (await client.list_metric_names("^up$"))["names"] == ["up"]
    missing = await client.list_metric_names("nothing_like_this")
    assert missing["empty"] is True
    assert (await client.list_label_values("job"))["values"] == ["api", "db"]
    assert (await client.list_label_values("job", "up"))["values"] == ["db"]
    assert last_proxy(grafana, "/values").param("match[]") == "up"
    assert (await client.list_label_values())["values"] == ["__name__", "job"]


# -- Loki -------------------------------------------------------------------------------------------------


async def test_logs_come_newest_first_with_ns_times(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.add_logs({"source": "lambda", "host": "app"}, [f"lambda {i}" for i in range(5)], gap_s=2)
    grafana.add_logs({"source": "edge", "host": "app"}, [f"edge {i}" for i in range(5)], gap_s=3)
    result = await client.query_loki('{host="app"}', "1h", limit=4)
    assert result["kind"] == "logs" and result["lines_returned"] == 4
    times = [line["time"] for line in result["lines"]]
    assert times == sorted(times, reverse=True)
    assert result["lines"][0]["line"] in ("lambda 4", "edge 4")
    assert result["common_labels"] == {"host": "app"}
    assert {line["labels"]["source"] for line in result["lines"]} == {"lambda", "edge"}
    assert result["truncated"] is True and "limit of 4" in result["hint"]
    request = last_proxy(grafana, "/loki/api/v1/query_range")
    assert request.path == f"/api/datasources/proxy/uid/{LOKI_UID}/loki/api/v1/query_range"
    start, end = int(request.param("start")), int(request.param("end"))
    assert len(str(end)) == 19 and 3590e9 < end - start < 3610e9  # ns
    assert request.param("limit") == "4" and request.param("direction") == "backward"
    explore = pane(result["explore_url"])
    assert explore["queries"][0]["expr"] == '{host="app"}'
    assert explore["queries"][0]["datasource"] == {"uid": LOKI_UID, "type": "loki"}


async def test_forward_direction_gives_oldest_first(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.add_logs({"source": "lambda"}, [f"line {i}" for i in range(5)])
    result = await client.query_loki('{source="lambda"}', limit=2, direction="forward")
    assert [line["line"] for line in result["lines"]] == ["line 0", "line 1"]


async def test_line_filters_and_long_lines(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.add_logs({"source": "lambda"}, ["ok", "Error: " + "x" * 2000, "fine"])
    result = await client.query_loki('{source="lambda"} |= "Error"')
    (line,) = result["lines"]
    assert len(line["line"]) == 500 and line["line"].endswith("…")
    assert result["truncated"] is False


async def test_log_results_stay_in_the_budget(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.add_logs({"source": "lambda"}, [f"request {i} " + "y" * 300 for i in range(1000)], gap_s=0.5)
    result = await client.query_loki('{source="lambda"}', limit=1000)
    assert serialized_size(result) <= BUDGET
    assert result["truncated"] is True and result["shown"] < 1000
    assert "line filter" in result["hint"]


async def test_metric_queries_return_numbers(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.add_logs({"source": "lambda"}, ["error a", "error b", "ok"], gap_s=1)
    grafana.add_logs({"source": "edge"}, ["error c"])
    result = await client.query_loki('sum by (source) (count_over_time({source=~".+"} |= "error" [5m]))', "30m")
    assert result["kind"] == "metric" and result["result_type"] == "matrix"
    by_source = {s["labels"]["source"]: s for s in result["series"]}
    assert by_source["lambda"]["max"] == 2 and by_source["edge"]["max"] == 1
    assert result["step_seconds"] == 30  # 30 min / 100 points -> 18 s -> 30 s
    assert "explore_url" in result
    total = await client.query_loki('sum(count_over_time({source=~".+"}[10m]))', "10m")
    assert total["series"][0]["last"] == 4


async def test_empty_logs_hint_at_labels_and_the_drain(client: GrafanaClient) -> None:
    result = await client.query_loki('{source="lambda"}')
    assert result["empty"] is True and result["lines"] == []
    assert "list_loki_labels" in result["hint"] and "Vercel log drain" in result["hint"]


async def test_label_discovery(grafana: FakeGrafana, client: GrafanaClient) -> None:
    assert "Vercel log drain" in (await client.list_loki_labels())["hint"]
    grafana.add_logs({"source": "lambda", "host": "a"}, ["x"])
    grafana.add_logs({"source": "edge", "host": "b"}, ["y"])
    assert (await client.list_loki_labels())["labels"] == ["host", "source"]
    assert (await client.list_loki_label_values("source"))["values"] == ["edge", "lambda"]
    scoped = await client.list_loki_label_values("source", query='{host="b"}')
    assert scoped["values"] == ["edge"]
    request = last_proxy(grafana, "/loki/api/v1/label/source/values")
    assert request.param("query") == '{host="b"}' and len(request.param("start")) == 19
    missing = await client.list_loki_label_values("nope")
    assert missing["empty"] is True and "list_loki_labels" in missing["hint"]


async def test_old_lines_are_outside_the_range(grafana: FakeGrafana, client: GrafanaClient) -> None:
    two_hours_ago = time.time_ns() - 7200 * 10**9
    grafana.add_logs({"source": "lambda"}, ["old"], end_ns=two_hours_ago)
    assert (await client.query_loki('{source="lambda"}', "1h"))["empty"] is True
    assert (await client.query_loki('{source="lambda"}', "3h"))["lines"][0]["line"] == "old"
