"""The shared discovery cache: one request per lookup within the TTL, stale answered at once and refreshed behind."""

from __future__ import annotations

import asyncio
import time

import pytest

from skills.base import Credential, SkillError
from skills.grafana.client import GrafanaClient
from skills.grafana.discovery import GrafanaDiscovery
from skills.grafana.skill import GrafanaSkill
from tests.fakes.grafana import LOKI_UID, PROM_UID, FakeGrafana


def count(grafana: FakeGrafana, suffix: str) -> int:
    return sum(1 for p in grafana.paths() if p.endswith(suffix))


async def test_lookups_are_cached_and_shared_by_concurrent_callers(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.add_logs({"source": "lambda"}, ["x"])
    grafana.add_series({"__name__": "http_requests_total", "job": "api"}, [(time.time() - 10, 1)])
    cache = client.discovery
    uids = await asyncio.gather(*(cache.uid("loki") for _ in range(5)))
    assert uids == [LOKI_UID] * 5
    assert count(grafana, "/api/datasources") == 1
    assert await cache.label_names("loki") == ["source"]
    assert await cache.label_values("loki", "source") == ["lambda"]
    assert await cache.metric_names() == ["http_requests_total"]
    assert await cache.label_values("prometheus", "job") == ["api"]
    before = len(grafana.requests)
    # the tools go through the same cache: no new request
    assert (await client.list_loki_labels())["labels"] == ["source"]
    assert (await client.list_metric_names("http"))["names"] == ["http_requests_total"]
    assert (await client.list_label_values("job"))["values"] == ["api"]
    assert await cache.uid("prometheus") == PROM_UID
    assert len(grafana.requests) == before


async def test_a_stale_entry_is_answered_at_once_and_refreshed_behind(grafana: FakeGrafana) -> None:
    grafana.add_logs({"source": "lambda"}, ["x"])
    async with GrafanaClient(grafana.url, grafana.token) as client:
        cache = GrafanaDiscovery(client, ttl=0.0)  # every entry is stale as soon as it is made
        assert await cache.label_names("loki") == ["source"]
        grafana.add_logs({"host": "a"}, ["y"])
        grafana.delay = 0.3
        labels_before = count(grafana, "/loki/api/v1/labels")
        assert await cache.label_names("loki") == ["source"]  # the stale value, without waiting
        await cache.settle()
        assert count(grafana, "/loki/api/v1/labels") == labels_before + 1
        grafana.delay = 0.0
        assert await cache.label_names("loki", fresh=True) == ["host", "source"]


async def test_empty_and_failed_lookups_are_not_kept(grafana: FakeGrafana, client: GrafanaClient) -> None:
    cache = client.discovery
    assert await cache.label_names("loki") == []  # no streams yet
    grafana.add_logs({"source": "edge"}, ["z"])
    assert await cache.label_names("loki") == ["source"]  # the drain started: seen at once
    cache.forget()
    grafana.fail_next(500, times=3)  # every attempt of one lookup
    with pytest.raises(SkillError):
        await cache.datasources()
    assert await cache.uid("loki") == LOKI_UID


async def test_warming_fills_what_questions_and_reports_look_up(grafana: FakeGrafana) -> None:
    grafana.add_logs({"source": "lambda"}, ["x"])
    grafana.add_series({"__name__": "http_request_duration_seconds_bucket", "le": "1"}, [(time.time() - 10, 1)])
    skill = GrafanaSkill(Credential(grafana.url, "GRAFANA_URL"), Credential(grafana.token, "GRAFANA_TOKEN"))
    try:
        await skill.warm()
        before = len(grafana.requests)
        assert await skill.client.discovery.label_names("loki") == ["source"]
        assert await skill.client.discovery.label_names("loki", since="24h") == ["source"]
        assert await skill.client.discovery.metric_names() == ["http_request_duration_seconds_bucket"]
        assert len(grafana.requests) == before
    finally:
        await skill.aclose()


async def test_a_loki_without_the_patterns_endpoint_is_asked_once(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.add_logs({"source": "lambda"}, ["error: upstream timed out after 500ms", "error: upstream timed out"])
    first = await client.loki_error_patterns(since="1h")
    second = await client.loki_error_patterns(since="1h")
    assert first["patterns"] and second["patterns"] == first["patterns"]
    assert count(grafana, "/loki/api/v1/patterns") == 1  # 404 once (off, as Loki ships), then straight to the fallback
    client.discovery.forget()
    await client.loki_error_patterns(since="1h")
    assert count(grafana, "/loki/api/v1/patterns") == 2  # forgotten: asked again
