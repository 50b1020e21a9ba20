"""Error patterns: Loki's pattern endpoint first, drain3 clustering otherwise, counts over the whole window."""

from __future__ import annotations

import asyncio
import json

import pytest

from skills.base import SkillError
from skills.grafana.client import GrafanaClient
from skills.grafana.patterns import cluster, error_query, message_of, words_filter
from skills.results import serialized_size
from tests.fakes.grafana import FakeGrafana
from tests.fakes.grafana_query import now_ns


def test_drain3_turns_the_tokens_that_vary_into_wildcards() -> None:
    lines = [(i, f"GET /api/users/{1000 + i}/orders returned 503 in {i}ms") for i in range(6)]
    lines += [(10 + i, f"job {['3f2b8c1e', '9a4d4e6f', '8b7a1c2d'][i]} failed on node-{i}") for i in range(3)]
    lines += [(20, "Error: can't connect to db")]
    assert [(c.pattern, c.count) for c in cluster(lines)] == [
        ("GET <*> returned 503 in <*>", 6),
        ("job <*> failed on <*>", 3),
        ("Error: can't connect to db", 1),
    ]


def test_the_words_filter_of_a_template_is_valid_re2_for_the_raw_lines() -> None:
    assert words_filter("TimeoutError: upstream <*> timed out after <*>ms") == (
        "|~ `TimeoutError:.*upstream.*timed.*out.*after.*ms`"
    )
    assert words_filter('KeyError: "id" (x.y) <*>') == r"|~ `KeyError:.*\(x\.y\)`"  # quoted words are JSON-escaped
    assert words_filter("<*> <*>") is None


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
        ("TimeoutError: upstream <*> timed out after <*>", 132),
        ("TypeError: cannot read property 'id' of undefined at line <*>", 3),
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


def kinds(grafana: FakeGrafana) -> list[str]:
    """What each Loki request asked for: its patterns, error counts per step, error lines, or an instant count."""
    out = []
    for r in grafana.requests:
        if r.path.endswith("/patterns"):
            out.append("patterns")
        elif r.path.endswith("/query_range"):
            out.append("counts" if (r.param("query") or "").startswith("sum(count_over_time(") else "lines")
        elif r.path.endswith("/query"):
            out.append("instant count")
    return out


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
        ("TimeoutError: upstream <*> timed out after <*>", 40),
        ("PrismaClientKnownRequestError: record <*> not found", 5),
    ]
    assert result["source"] == "drain3" and result["counted"] == "window" and result["error_lines"] == 45
    # Loki was asked for its own patterns, the error counts per step and the lines at once; pattern ingestion is off
    # (404), so the lines were clustered here
    assert sorted(kinds(grafana)) == ["counts", "lines", "patterns"]
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


async def test_counts_cover_the_whole_window_beyond_the_scanned_lines(
    grafana: FakeGrafana, client: GrafanaClient
) -> None:
    lines = [f"TimeoutError: upstream 10.0.0.{i % 9} timed out after {4000 + i}ms" for i in range(30)]
    lines += [f"PrismaClientKnownRequestError: record {i} not found" for i in range(12)]
    grafana.add_logs({"source": "lambda"}, lines, gap_s=5)
    result = await client.loki_error_patterns('{source="lambda"}', "12h", limit=10)
    assert result["lines_scanned"] == 10 and result["error_lines"] == 42
    # the newest 10 lines are all Prisma errors: the pattern is counted over the whole window, not in those 10
    assert [(p["pattern"], p["count"]) for p in result["patterns"]] == [
        ("PrismaClientKnownRequestError: record <*> not found", 12)
    ]
    assert result["counted"] == "window" and "newest 10" in result["hint"]


async def test_loki_patterns_are_used_where_the_instance_has_them(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.loki_patterns = True
    lines = [f"level=error msg=timeout calling db after {500 + i}ms" for i in range(25)]
    lines += [f"level=info msg=served request {i}" for i in range(40)]
    grafana.add_logs({"source": "lambda"}, lines, gap_s=60)
    result = await client.loki_error_patterns('{source="lambda"}', "12h", limit=10)
    assert result["source"] == "loki patterns" and result["counted"] == "window"
    # only the pattern whose words name an error; Loki's <_> shown as <*>; counted over the window, not the limit
    assert [(p["pattern"], p["count"]) for p in result["patterns"]] == [
        ("level=error msg=timeout calling db after <*>", 25)
    ]
    assert result["error_lines"] == 25 and "lines_scanned" not in result
    # every call asks for the patterns, the counts that tell whether they cover the window and the lines (in case
    # they do not) at once, and nothing after: one round, whatever Loki answers
    grafana.requests.clear()
    again = await client.loki_error_patterns('{source="lambda"}', "12h", limit=10)
    assert again["source"] == "loki patterns"
    assert sorted(kinds(grafana)) == ["counts", "lines", "patterns"]


@pytest.mark.parametrize("patterns", [False, True])
async def test_the_lines_and_counts_are_fetched_while_loki_is_asked_for_its_patterns(
    grafana: FakeGrafana, client: GrafanaClient, patterns: bool
) -> None:
    """Whether Loki has pattern ingestion (and whether its patterns cover the window) is known only from its answer:
    the counts that tell and the lines the fallback needs go out beside it, not a round trip after."""
    grafana.loki_patterns = patterns
    hour = 3600 * 10**9
    grafana.add_logs({"source": "lambda"}, timeouts(5), end_ns=now_ns() - 8 * hour, gap_s=60)  # before 3 h
    grafana.add_logs({"source": "lambda"}, ["Error: boom 1", "Error: boom 2"])
    await client.discovery.uid("loki")  # the data source is known (warmed), as in a running sitrep
    if patterns:  # known to have them from an earlier question
        await client.loki_error_patterns('{source="lambda"}', "12h")
        grafana.requests.clear()
    grafana.hold = asyncio.Event()
    all_asked = asyncio.Event()
    grafana.on_request = lambda _: all_asked.set() if len(kinds(grafana)) == 3 else None
    task = asyncio.create_task(client.loki_error_patterns('{source="lambda"}', "12h"))
    try:
        await asyncio.wait_for(all_asked.wait(), 5)  # all three in flight while Grafana answers nothing
    finally:
        grafana.hold.set()
    result = await task
    assert sorted(kinds(grafana)) == ["counts", "lines", "patterns"]  # and nothing after them
    assert result["source"] == "drain3" and result["error_lines"] == 7


async def test_a_query_with_its_own_filter_is_clustered_here(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.loki_patterns = True
    grafana.add_logs({"source": "lambda"}, [f"panic: boom {i}" for i in range(3)])
    result = await client.loki_error_patterns('{source="lambda"} |= "panic"', "1h")
    assert result["source"] == "drain3" and result["patterns"][0]["count"] == 3
    assert not any(p.endswith("/patterns") for p in grafana.paths())


def timeouts(count: int, offset: int = 0) -> list[str]:
    return [f"level=error msg=timeout calling db after {500 + offset + i}ms" for i in range(count)]


async def test_patterns_covering_3h_of_12h_are_not_shown_as_the_window(
    grafana: FakeGrafana, client: GrafanaClient
) -> None:
    # Loki's pattern ingester keeps 3 h of samples (retain-for): an incident 8 h ago has none left.
    grafana.loki_patterns = True
    hour = 3600 * 10**9
    grafana.add_logs({"source": "lambda"}, timeouts(30), end_ns=now_ns() - 8 * hour, gap_s=60)
    grafana.add_logs({"source": "lambda"}, [f"level=info msg=served request {i}" for i in range(200)], gap_s=60)
    grafana.add_logs({"source": "lambda"}, timeouts(10, 100), gap_s=60)
    result = await client.loki_error_patterns('{source="lambda"}', "12h")
    assert [(p["pattern"], p["count"]) for p in result["patterns"]] == [
        ("level=error msg=timeout calling db after <*>", 40)
    ]
    assert result["counted"] == "window" and result["error_lines"] == 40
    assert "Loki's patterns cover only the last 3 h of 12 h" in result["hint"]


async def test_patterns_of_a_stream_that_began_within_their_span_cover_the_window(
    grafana: FakeGrafana, client: GrafanaClient
) -> None:
    # Samples start an hour ago because the lines do: nothing older to miss, so Loki's patterns are the window.
    grafana.loki_patterns = True
    grafana.add_logs({"source": "lambda"}, timeouts(25), gap_s=60)
    result = await client.loki_error_patterns('{source="lambda"}', "12h")
    assert result["source"] == "loki patterns" and result["counted"] == "window"
    assert [(p["pattern"], p["count"]) for p in result["patterns"]] == [
        ("level=error msg=timeout calling db after <*>", 25)
    ]
    grafana.requests.clear()
    assert (await client.loki_error_patterns('{source="lambda"}', "12h"))["source"] == "loki patterns"
    assert sorted(kinds(grafana)) == ["counts", "lines", "patterns"]  # no instant count after the patterns
