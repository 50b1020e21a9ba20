"""Error patterns: masking variable tokens, clustering, the default error filter, and the result through Loki."""

from __future__ import annotations

import json

import pytest

from skills.base import SkillError, serialized_size
from skills.grafana.client import GrafanaClient
from skills.grafana.patterns import cluster, error_query, message_of, template_of
from tests.fakes.grafana import FakeGrafana


@pytest.mark.parametrize(
    ("line", "template"),
    [
        (
            "TimeoutError: upstream 10.0.3.7:8080 timed out after 5000ms",
            "TimeoutError: upstream <*> timed out after <*>ms",
        ),
        ("GET /api/users/12345/orders returned 503", "GET /api/users/<*>/orders returned <*>"),
        ("job 3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b failed", "job <*> failed"),
        ("commit 9f86d081884c7d65 not found", "commit <*> not found"),
        ("pointer 0x7ffd5e8c at fault", "pointer <*> at fault"),
        ("KeyError: \"agent_id\" missing in 'payload'", "KeyError: <*> missing in <*>"),
        ("request req_8f3k2j9x0q1 took 1.25s", "request <*> took <*>s"),
        ("at 2026-02-17T08:00:00.123Z the cron failed", "at <*> the cron failed"),
        ("mail to jane.doe@mochacare.com bounced", "mail to <*> bounced"),
        ("Error: can't connect to db", "Error: can't connect to db"),
        ("HTTP2 stream reset by v1 proxy", "HTTP2 stream reset by v1 proxy"),
        ("retry  3/5   in   200ms", "retry <*> in <*>ms"),
    ],
)
def test_template_masks_variable_tokens(line: str, template: str) -> None:
    assert template_of(line) == template


def test_message_of_json_lines_uses_the_message_field() -> None:
    line = json.dumps({"level": "error", "message": "TimeoutError: upstream x timed out", "statusCode": 504})
    assert message_of(line) == "TimeoutError: upstream x timed out"
    assert message_of(json.dumps({"proxy": {"statusCode": 502, "path": "/api/chat"}})) == "502 /api/chat"
    assert message_of('{"error": {"message": "boom"}}') == "boom"
    assert message_of("{not json") == "{not json"
    assert message_of("  plain line  ") == "plain line"


def test_cluster_counts_sorts_and_keeps_the_newest_example() -> None:
    lines = [(i, f"TimeoutError: upstream 10.0.0.{i} timed out after {100 + i}ms") for i in range(1, 133)]
    lines += [(1000 + i, f"TypeError: cannot read property 'id' of undefined at line {i}") for i in range(3)]
    lines += [(5, "")]
    clusters = cluster(lines)
    assert [(c.pattern, c.count) for c in clusters] == [
        ("TimeoutError: upstream <*> timed out after <*>ms", 132),
        ("TypeError: cannot read property <*> of undefined at line <*>", 3),
    ]
    assert clusters[0].example == "TimeoutError: upstream 10.0.0.132 timed out after 232ms"
    assert clusters[0].to_dict()["count"] == 132


def test_error_query_adds_the_filter_only_to_a_bare_selector() -> None:
    expected = '{source="lambda"} |~ "(?i)(error|exception|fail|timeout|\\\\b5\\\\d\\\\d\\\\b)"'
    assert error_query('{source="lambda"}') == expected
    assert error_query('{a="}"} |= "panic"') == '{a="}"} |= "panic"'
    with pytest.raises(SkillError) as caught:
        error_query("sum(rate(x[5m]))")
    assert "stream selector" in caught.value.hint


def vercel(message: str, status: int = 200, level: str = "info") -> str:
    return json.dumps({"source": "lambda", "level": level, "message": message, "statusCode": status, "path": "/api"})


async def test_patterns_through_loki(grafana: FakeGrafana, client: GrafanaClient) -> None:
    lines = [
        vercel(f"TimeoutError: upstream 10.0.0.{i % 7} timed out after {4000 + i}ms", 504, "error") for i in range(40)
    ]
    lines += [vercel("GET /api/health ok")] * 20
    lines += [vercel(f"PrismaClientKnownRequestError: record {i} not found", 500, "error") for i in range(5)]
    grafana.add_logs({"source": "lambda", "host": "mochacare.vercel.app"}, lines, gap_s=10)
    result = await client.loki_error_patterns('{host="mochacare.vercel.app"}', "12h")
    assert result["query"].startswith('{host="mochacare.vercel.app"} |~ "(?i)(error')
    assert result["lines_scanned"] == 45
    assert [(p["pattern"], p["count"]) for p in result["patterns"]] == [
        ("TimeoutError: upstream <*> timed out after <*>ms", 40),
        ("PrismaClientKnownRequestError: record <*> not found", 5),
    ]
    assert result["patterns"][0]["example"].startswith("TimeoutError: upstream 10.0.0.")
    assert result["truncated"] is False and "explore_url" in result


async def test_default_selector_is_discovered(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.add_logs({"service_name": "web", "level": "error"}, ["Error: boom 1", "Error: boom 2"])
    result = await client.loki_error_patterns(None, "1h")
    assert result["query"].startswith('{service_name=~".+"} |~')
    assert result["patterns"][0] == {**result["patterns"][0], "pattern": "Error: boom <*>", "count": 2}


async def test_no_streams_and_no_errors_say_so(grafana: FakeGrafana, client: GrafanaClient) -> None:
    none = await client.loki_error_patterns(None)
    assert none["empty"] is True and "Vercel log drain" in none["hint"]
    grafana.add_logs({"source": "lambda"}, ["all good", "still fine"])
    calm = await client.loki_error_patterns('{source="lambda"}')
    assert calm["empty"] is True and calm["lines_scanned"] == 0
    assert "no error lines" in calm["hint"]


async def test_scan_limit_and_budget(grafana: FakeGrafana, client: GrafanaClient) -> None:
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
    lines = [f"Error in {a} {b} {c} handler: " + "z" * 200 for a in words for b in words for c in words[:3]]
    grafana.add_logs({"source": "lambda"}, lines, gap_s=0.1)
    result = await client.loki_error_patterns('{source="lambda"}', limit=250, top=50)
    assert result["lines_scanned"] == 250
    assert result["truncated"] is True
    assert serialized_size(result) <= 8192
    assert "newest 250" in result["hint"] or "narrow" in result["hint"]


async def test_metric_query_is_refused(client: GrafanaClient, grafana: FakeGrafana) -> None:
    grafana.add_logs({"source": "lambda"}, ["Error: x"])
    with pytest.raises(SkillError):
        await client.loki_error_patterns('count_over_time({source="lambda"}[5m])')
