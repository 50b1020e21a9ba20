"""Report fixtures: Vercel-style log lines, a latency histogram, alerts and agent events seeded into the fakes,
with the numbers a report over them must show computed from the same data (never typed in by hand).

Used by the tests in tests/reports/ and by bench/report_critical_path.py.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from tests.fakes.amplitude import FakeAmplitude
from tests.fakes.grafana import PROM_UID, FakeGrafana

HOURS = 12  # the builder's default Grafana window
BUCKETS = 12
STREAM = {"source": "lambda", "project": "mochacare-web"}
OK_LINE = {"level": "info", "message": "request served", "path": "/api/agents", "statusCode": 200}
TIMEOUT_LINE = {
    "level": "error",
    "message": "TimeoutError: upstream 10.0.3.7:8080 timed out after 5000ms",
    "path": "/api/chat",
    "statusCode": 504,
}
APP_ERROR_LINE = {"level": "error", "message": "TypeError: cannot read property 'id' of undefined"}
# every seeded line of a kind is the same message, so drain3 keeps it whole (nothing varies to become <*>)
TIMEOUT_PATTERN = TIMEOUT_LINE["message"]
TYPE_ERROR_PATTERN = APP_ERROR_LINE["message"]
LATENCY_METRIC = "http_request_duration_seconds_bucket"
LES = ("0.1", "0.25", "0.5", "1", "2.5", "+Inf")


@dataclass
class LogData:
    """Lines per hourly bucket, oldest first: buckets 0-11 are the previous window, 12-23 the current one."""

    ok: list[int]
    timeouts: list[int]  # 504s, error lines with a statusCode
    app_errors: list[int]  # error lines without a statusCode
    with_status: bool = True

    def current(self, values: list[int]) -> int:
        return sum(values[BUCKETS:])

    def previous(self, values: list[int]) -> int:
        return sum(values[:BUCKETS])

    @property
    def requests(self) -> list[int]:
        return [o + t for o, t in zip(self.ok, self.timeouts, strict=True)]

    @property
    def error_lines(self) -> list[int]:
        return [t + a for t, a in zip(self.timeouts, self.app_errors, strict=True)]

    @property
    def all_lines(self) -> list[int]:
        return [o + t + a for o, t, a in zip(self.ok, self.timeouts, self.app_errors, strict=True)]


def default_logs() -> LogData:
    ok = [40 + (k % 5) * 3 for k in range(2 * BUCKETS)]
    timeouts = [1 if k % 4 == 0 else 0 for k in range(BUCKETS)] + [k % 3 for k in range(BUCKETS)]
    timeouts[-2] = 9  # a spike near the end of the window
    app_errors = [k % 2 for k in range(2 * BUCKETS)]
    return LogData(ok, timeouts, app_errors)


def seed_logs(grafana: FakeGrafana, data: LogData, end: datetime) -> None:
    """Each bucket's lines in the middle of its hour; bucket k ends at end - (23 - k) h."""
    for k in range(2 * BUCKETS):
        middle = end - timedelta(hours=2 * BUCKETS - 1 - k) - timedelta(minutes=30)
        ns = int(middle.timestamp()) * 1_000_000_000
        lines: list[str] = []
        for count, template in ((data.ok[k], OK_LINE), (data.timeouts[k], TIMEOUT_LINE)):
            line = dict(template) if data.with_status else {x: v for x, v in template.items() if x != "statusCode"}
            lines += [json.dumps(line)] * count
        lines += [json.dumps(APP_ERROR_LINE)] * data.app_errors[k]
        for i, line in enumerate(lines):
            grafana.add_logs(STREAM, [line], end_ns=ns + i * 1_000_000)


@dataclass
class LatencyData:
    """Observations per hourly step (24 steps over both windows) by bucket upper bound (non-cumulative)."""

    steps: list[dict[str, int]] = field(default_factory=list)

    def cumulative_at(self, k: int) -> dict[str, int]:
        """The counters after k steps (cumulative over time and over le)."""
        out: dict[str, int] = {}
        running = 0
        for le in LES:
            running += sum(step.get(le, 0) for step in self.steps[:k])
            out[le] = running
        return out


def default_latency() -> LatencyData:
    """Previous window: 100 fast requests an hour (≤ 0.1 s); current: 90 fast and 10 in (0.25, 0.5] s."""
    fast = {"0.1": 100}
    slower = {"0.1": 90, "0.5": 10}
    return LatencyData([dict(fast) for _ in range(BUCKETS)] + [dict(slower) for _ in range(BUCKETS)])


def expected_p95(step_counts: list[dict[str, int]]) -> float:
    """The textbook histogram quantile: the rank's bucket, linear inside it (independent of reports/)."""
    totals = {le: sum(s.get(le, 0) for s in step_counts) for le in LES}
    bounds = [math.inf if le == "+Inf" else float(le) for le in LES]
    cumulative, running = [], 0
    for le in LES:
        running += totals[le]
        cumulative.append(running)
    rank = 0.95 * cumulative[-1]
    for i, count in enumerate(cumulative):
        if count >= rank:
            lower = 0.0 if i == 0 else bounds[i - 1]
            below = 0 if i == 0 else cumulative[i - 1]
            return lower + (bounds[i] - lower) * (rank - below) / (count - below)
    raise AssertionError("no bucket holds the rank")


def seed_latency(grafana: FakeGrafana, data: LatencyData, end: datetime) -> None:
    """Counters sampled once an hour, just before each point of the builder's range query."""
    start = end - timedelta(hours=2 * BUCKETS)
    for le in LES:
        samples = []
        for k in range(2 * BUCKETS + 1):
            at = (start + timedelta(hours=k)).timestamp() - 1
            samples.append((at, data.cumulative_at(k)[le]))
        grafana.add_series({"__name__": LATENCY_METRIC, "le": le, "route": "/api/chat"}, samples)
    grafana.add_series({"__name__": "up", "job": "web"}, [(end.timestamp() - 5, 1)])


ALERT_EXPR = 'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))'


def seed_alerts(grafana: FakeGrafana) -> None:
    def rule(name: str, state: str) -> dict:
        return {
            "name": name,
            "state": state,
            "type": "alerting",
            "health": "ok",
            "labels": {"team": "sre"},
            "annotations": {"summary": f"{name} summary"},
            "alerts": [
                {"labels": {"alertname": name}, "state": state.capitalize(), "activeAt": "2026-02-17T08:00:00Z"}
            ],
            # The rule model's queries: the fake serves them as Grafana does (query joined by " | ").
            "data": [
                {"refId": "A", "datasourceUid": PROM_UID, "model": {"expr": ALERT_EXPR}},
                {"refId": "B", "datasourceUid": "__expr__", "model": {"type": "threshold", "expression": "A"}},
            ],
        }

    grafana.alert_groups = [
        {
            "name": "vercel",
            "file": "MochaCare",
            "rules": [rule("High 5xx rate", "firing"), rule("Slow chat", "pending"), rule("Quiet", "inactive")],
        }
    ]


@dataclass
class AgentData:
    """Events per day for 14 days, oldest first: days 0-6 are the previous window, 7-13 the current one."""

    today: date
    started: list[int]
    completed: list[int]
    failed: dict[str, list[int]]  # error_type -> per day
    timeouts: list[int]
    api_errors: dict[str, list[int]]  # endpoint -> per day

    def day(self, i: int) -> date:
        return self.today - timedelta(days=13 - i)

    @staticmethod
    def current(values: list[int]) -> int:
        return sum(values[7:])

    @staticmethod
    def previous(values: list[int]) -> int:
        return sum(values[:7])

    @property
    def failed_total(self) -> list[int]:
        return [sum(v[i] for v in self.failed.values()) for i in range(14)]


def default_agents(today: date | None = None) -> AgentData:
    today = today or datetime.now(UTC).date()
    return AgentData(
        today=today,
        started=[100 + 5 * i for i in range(14)],
        completed=[90 + 4 * i for i in range(14)],
        failed={
            "TimeoutError": [2, 1, 3, 2, 1, 2, 2, 4, 5, 3, 6, 4, 5, 9],
            "RateLimitError": [1, 0, 1, 1, 0, 0, 1, 2, 1, 2, 1, 3, 2, 4],
            "ValidationError": [0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0],
        },
        timeouts=[1, 1, 0, 2, 1, 1, 0, 2, 1, 3, 1, 2, 2, 3],
        api_errors={
            "/api/chat": [3, 2, 4, 3, 2, 3, 3, 6, 5, 7, 4, 6, 8, 9],
            "/api/agents": [1, 1, 0, 1, 2, 1, 1, 1, 2, 1, 1, 2, 1, 1],
        },
    )


def seed_agents(amp: FakeAmplitude, data: AgentData) -> None:
    for i in range(14):
        day = data.day(i)
        for event, count in (
            ("Agent Started", data.started[i]),
            ("Agent Completed", data.completed[i]),
            ("Agent Timeout", data.timeouts[i]),
        ):
            if count:
                amp.add_events(event, day, count, agent_id="a1")
        for error_type, per_day in data.failed.items():
            if per_day[i]:
                amp.add_events("Agent Failed", day, per_day[i], agent_id="a1", error_type=error_type)
        for endpoint, per_day in data.api_errors.items():
            if per_day[i]:
                amp.add_events("API Error", day, per_day[i], endpoint=endpoint, status_code=500)
    amp.add_annotation(f"{data.today - timedelta(days=2)}T17:00:00Z", "Release v1.4.0", category="Deploy")
    amp.add_annotation(f"{data.today - timedelta(days=10)}T17:00:00Z", "Release v1.3.0", category="Deploy")


def fake_env(grafana: FakeGrafana | None, amp: FakeAmplitude | None) -> dict[str, str]:
    """The variables that point sitrep at the fakes (the production code path: open_skill reads them)."""
    env: dict[str, str] = {}
    if grafana is not None:
        env.update(GRAFANA_URL=grafana.url, GRAFANA_TOKEN=grafana.token)
    if amp is not None:
        env.update(AMPLITUDE_API_KEY=amp.api_key, AMPLITUDE_SECRET_KEY=amp.secret_key, AMPLITUDE_API_URL=amp.url)
    return env


def report_factories() -> list:
    """The Grafana and Amplitude skills as the app opens them (skills/registry.py may not list them yet)."""
    from skills.amplitude import open_skill as open_amplitude
    from skills.grafana import open_skill as open_grafana

    return [open_grafana, open_amplitude]


def seed_all(grafana: FakeGrafana, amp: FakeAmplitude, end: datetime) -> tuple[LogData, LatencyData, AgentData]:
    logs, latency, agents = default_logs(), default_latency(), default_agents()
    seed_logs(grafana, logs, end)
    seed_latency(grafana, latency, end)
    seed_alerts(grafana)
    seed_agents(amp, agents)
    return logs, latency, agents
