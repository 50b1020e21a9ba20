"""A real Prometheus (Debian package `prometheus`) scraping itself, queried through the fake Grafana's proxy route.

Proves the client parses real instant, range, scalar and error responses. `make test` installs the binary first
(scripts/test_deps.py); without it the test fails, never skips.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from agent.rules.plays_metrics import query_for
from agent.rules.plays_triage import slowest_query
from reports.sections.grafana import Window, _histogram, duration
from skills.base import SkillError
from skills.grafana import metric_search, subjects
from skills.grafana.client import GrafanaClient
from skills.grafana.latency import p95_query
from skills.http import RetryPolicy
from tests.fakes.grafana import PROM_UID, FakeGrafana

pytestmark = pytest.mark.e2e  # starts processes: `pytest -m "not e2e"` skips it

BINARY = shutil.which("prometheus") or "/usr/bin/prometheus"
START_DEADLINE_S = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _poll(deadline: float, what: str, check, log: Path) -> None:
    """Poll `check` until it returns true or the deadline passes (Prometheus has no readiness event to await)."""
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    pytest.fail(f"Prometheus: {what} within {START_DEADLINE_S:.0f} s; its log ends with:\n{tail}")


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not os.path.exists(BINARY):
        pytest.fail(f"{BINARY} is missing: run `sudo make test-deps` (apt-get install prometheus)")
    workdir = tmp_path_factory.mktemp("prometheus")
    port = _free_port()
    address = f"127.0.0.1:{port}"
    config = workdir / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        f"scrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['{address}']\n"
    )
    log = workdir / "prometheus.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                BINARY,
                f"--config.file={config}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address={address}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://{address}"
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        with httpx.Client(base_url=url, timeout=2.0) as http:
            _poll(deadline, "not ready", lambda: http.get("/-/ready").status_code == 200, log)

            def scraped_enough() -> bool:
                body = http.get("/api/v1/query", params={"query": "count_over_time(up[1m])"}).json()
                result = body["data"]["result"]
                return bool(result) and float(result[0]["value"][1]) >= 3

            _poll(deadline, "no samples of `up`", scraped_enough, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
async def client(prometheus: str) -> AsyncIterator[tuple[GrafanaClient, FakeGrafana]]:
    async with FakeGrafana(prometheus_upstream=prometheus) as grafana:
        async with GrafanaClient(grafana.url, grafana.token, policy=RetryPolicy(backoff=0.0)) as c:
            yield c, grafana


async def test_instant_query_through_the_proxy(client: tuple[GrafanaClient, FakeGrafana], prometheus: str) -> None:
    c, grafana = client
    result = await c.query_prometheus("up")
    assert result["kind"] == "instant" and result["result_type"] == "vector"
    (series,) = result["series"]
    assert series["labels"] == {"__name__": "up", "instance": prometheus.removeprefix("http://"), "job": "prometheus"}
    assert series["value"] == 1
    proxied = [r for r in grafana.requests if r.path.startswith(f"/api/datasources/proxy/uid/{PROM_UID}/")]
    assert proxied[-1].path.endswith("/api/v1/query")
    assert "explore_url" in result


async def test_range_query_through_the_proxy(client: tuple[GrafanaClient, FakeGrafana]) -> None:
    c, _ = client
    result = await c.query_prometheus("up", since="2m")
    assert result["kind"] == "range" and result["result_type"] == "matrix"
    assert result["step_seconds"] == 2  # 120 s / 100 points -> 1.2 s -> 2 s
    (series,) = result["series"]
    assert 2 <= series["points"] <= 61
    assert (series["min"], series["max"], series["last"], series["avg"]) == (1, 1, 1, 1)
    rate = await c.query_prometheus("sum(rate(prometheus_http_requests_total[30s]))", since="1m", step="5s")
    assert rate["step_seconds"] == 5
    assert rate["series_total"] <= 1


async def test_scalar_nan_and_metadata(client: tuple[GrafanaClient, FakeGrafana]) -> None:
    c, _ = client
    assert (await c.query_prometheus("1 + 1"))["value"] == 2
    nan = await c.query_prometheus("0 / 0")
    assert nan["value"] == "NaN"
    json.dumps(nan, allow_nan=False)
    names = await c.list_metric_names("prometheus_http_requests")
    assert "prometheus_http_requests_total" in names["names"]
    assert (await c.list_label_values("job"))["values"] == ["prometheus"]
    assert (await c.list_label_values("job", 'up{job="nope"}'))["values"] == []


async def test_real_error_text_is_carried(client: tuple[GrafanaClient, FakeGrafana]) -> None:
    c, _ = client
    with pytest.raises(SkillError) as caught:
        await c.query_prometheus("sum(up")
    assert caught.value.status == 400
    assert caught.value.message.startswith("Prometheus error: ")
    assert "parse error" in caught.value.message


async def test_the_reports_p95_is_what_its_explore_query_gives(client: tuple[GrafanaClient, FakeGrafana]) -> None:
    """The report computes p95 from the raw buckets; its Explore link's query, run at the window's end, agrees."""
    c, _ = client
    metric = "prometheus_http_request_duration_seconds_bucket"  # Prometheus's own HTTP latency histogram

    async def samples() -> float:
        body = await c.proxy(PROM_UID, "api/v1/query", {"query": "count_over_time(up[30s])"}, upstream="Prometheus")
        return float(body["data"]["result"][0]["value"][1])

    deadline = time.monotonic() + START_DEADLINE_S
    while await samples() < 10:  # two windows of 4 s need ~9 scrapes; Prometheus has no event to await
        assert time.monotonic() < deadline, "Prometheus did not scrape 10 samples in time"
        await asyncio.sleep(0.5)
    end = datetime.fromtimestamp(int(time.time()) - 1, UTC)
    window = Window(end, hours=4 / 3600, buckets=2)
    latency = await _histogram(c, PROM_UID, metric, window)
    assert latency.current is not None and latency.observations > 0
    expr = p95_query(metric, duration(window.step_s * window.buckets))
    body = await c.proxy(PROM_UID, "api/v1/query", {"query": expr, "time": end.timestamp()}, upstream="Prometheus")
    (row,) = body["data"]["result"]
    assert latency.current == pytest.approx(float(row["value"][1]), rel=0.02)


async def test_scoping_and_metric_queries_hold_on_a_real_prometheus(client: tuple[GrafanaClient, FakeGrafana]) -> None:
    """find_metrics reads the real /api/v1/metadata; resolve_subject the real label values; and the PromQL the rule
    planner writes for a metric, a grouping and the slowest endpoint is accepted and answered."""
    c, _ = client
    found = await metric_search.find(c, "memory")
    rows = {m["name"]: m for m in found["metrics"]}
    assert rows["process_resident_memory_bytes"]["type"] == "gauge"
    assert "memory" in rows["process_resident_memory_bytes"]["help"].lower()
    latency = await metric_search.find(c, "latency")
    histogram = next(m for m in latency["metrics"] if m["name"] == "prometheus_http_request_duration_seconds")
    assert (
        histogram["type"] == "histogram"
        and "prometheus_http_request_duration_seconds_bucket" in histogram["series_names"]
    )
    hit = await subjects.resolve(c, "prometheus", since="5m")
    assert hit["prometheus_matcher"] == 'job="prometheus"' and "selector" not in hit
    counter = {"name": "prometheus_http_requests_total", "type": "counter"}
    for metric in (rows["process_resident_memory_bytes"], counter, histogram):
        result = await c.query_prometheus(query_for(metric, hit["prometheus_matcher"], "instance"), since="1m")
        assert result["series_total"] >= 1, metric
    slowest = slowest_query("prometheus_http_request_duration_seconds_bucket", "handler", 'job="prometheus"', False)
    result = await c.query_prometheus(slowest, since="1m")
    assert result["result_type"] == "matrix"
