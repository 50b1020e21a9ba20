"""The rule planner's evaluation table: questions -> the queries they must send and the claims their answers may
make, run against the fake Grafana of tests/eval_world.py. Used by tests/test_eval_table.py and bench/eval_table.py.

Each case names its pattern (scope, metrics, triage, time, senses, external, basics). `calls` lists tool calls that
must be made, each with arguments that must contain the given text ("=..." for an exact value); `absent` tools
must not be called; `claims` must appear in the answer and `forbid` must not; `first` must be in its first line.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.agent.rulebook import answer_with_rules
from bot.agent.rules import plan
from bot.agent.toolbox import Toolbox
from tests.agent_world import world
from tests.eval_world import seed_cluster

Q = "grafana_query_loki"
P = "grafana_query_prometheus"
R = "grafana_resolve_subject"
F = "grafana_find_metrics"
PAT = "grafana_loki_error_patterns"
ALERTS = "grafana_get_alerts"
FIXED_NOW = datetime(2026, 11, 30, 10, 30, tzinfo=UTC)  # a Monday, for the time cases


@dataclass(frozen=True)
class Case:
    question: str
    pattern: str
    intents: tuple[str, ...] | None = None
    calls: tuple[tuple[str, dict[str, str]], ...] = ()
    absent: tuple[str, ...] = ()
    claims: tuple[str, ...] = ()
    forbid: tuple[str, ...] = ()
    first: str | None = None
    history: tuple[str, ...] = ()
    fixed_now: bool = False


def c(question: str, pattern: str, **kw: Any) -> Case:
    kw = {k: tuple(v) if isinstance(v, list) else v for k, v in kw.items()}
    return Case(question, pattern, **kw)


API = '{app="api-server"}'
CHECKOUT = '{app="checkout"}'
NO_AWS = ("I can't see",)
GRAFANA_DATA = (Q, P, PAT)

CASES: list[Case] = [
    # -- 1. the subject narrows the query -------------------------------------------------------------------
    c(
        "Troubleshoot 503 errors in the api-server service",
        "scope",
        intents=("triage",),
        calls=[(R, {"name": "=api-server"}), (Q, {"query": API}), (Q, {"query": r"\b503\b"})],
        first="Scope: api-server (label app)",
        claims=["lines with 503", "Error rate"],
    ),
    c(
        "Find 'query failed' in the logs of checkout",
        "scope",
        intents=("logs",),
        calls=[(R, {"name": "=checkout"}), (Q, {"query": CHECKOUT}), (Q, {"query": "(?i)query failed"})],
        first="Scope: checkout (label app)",
        claims=["query failed: connection refused"],
    ),
    c(
        "show 503s for api-server in the last 30 minutes",
        "scope",
        intents=("errors",),
        calls=[(Q, {"query": API, "since": "=30m"}), (Q, {"query": r"\b503\b"})],
        claims=["8 error lines"],
    ),
    c(
        "any 5xx on /orders?",
        "scope",
        intents=("errors",),
        calls=[(Q, {"query": "|= `/orders`"}), (Q, {"query": r"\b5\d\d\b"})],
        absent=[R],
        first="Scope: all services",
        claims=["lines with 5xx and /orders"],
    ),
    c(
        'grep "deadline exceeded" in api-server logs',
        "scope",
        intents=("logs",),
        calls=[(Q, {"query": API}), (Q, {"query": "(?i)deadline exceeded"})],
        claims=["deadline exceeded after 5000ms"],
    ),
    c(
        "error rate of the checkout app",
        "scope",
        intents=("errors",),
        calls=[(Q, {"query": CHECKOUT})],
        first="Scope: checkout (label app)",
        claims=["6 error lines of 48"],
    ),
    c(
        "errors in namespace payments",
        "scope",
        calls=[(R, {"name": "=payments", "kind": "=namespace"}), (Q, {"query": '{namespace="payments"}'})],
        first="Scope: payments (label namespace)",
    ),
    c(
        "logs for pod scheduler-0",
        "scope",
        intents=("logs",),
        calls=[(Q, {"query": '{pod="scheduler-0"}'})],
        first="Scope: scheduler-0 (label pod)",
        claims=["job sync failed"],
    ),
    c(
        "503 errors in the billing service",
        "scope",
        calls=[(R, {"name": "=billing"}), (Q, {"query": r"\b503\b"})],
        first="no stream or series labelled billing; showing all logs lines with 503",
        forbid=['app="billing"'],
    ),
    c(
        "show logs of the ghost-service app",
        "scope",
        intents=("logs",),
        calls=[(R, {"name": "=ghost-service"})],
        first="no stream or series labelled ghost-service; showing everything",
    ),
    c("errors on /health", "scope", calls=[(Q, {"query": "|= `/health`"})], claims=["lines with /health"]),
    c(
        'find "connection refused" in the logs',
        "scope",
        intents=("logs",),
        calls=[(Q, {"query": "(?i)connection refused"})],
        absent=[R],
        claims=["connection refused"],
    ),
    c(
        "how many 502 errors did frontend have in the last 6 hours?",
        "scope",
        intents=("errors",),
        calls=[(Q, {"query": '{app="frontend"}', "since": "=6h"}), (Q, {"query": r"\b502\b"})],
        claims=["10 error lines of 60"],
    ),
    c("show me 4xx for /checkout", "scope", calls=[(Q, {"query": r"\b4\d\d\b"}), (Q, {"query": "|= `/checkout`"})]),
    c(
        "what's failing in robusta-runner?",
        "scope",
        calls=[(R, {"name": "=robusta-runner"})],
        first="Scope: robusta-runner (label app)",
    ),
    c("checkout errors since 9am", "scope", calls=[(Q, {"query": CHECKOUT})], first="Scope: checkout (label app)"),
    c(
        "log lines with 'payment declined' from checkout",
        "scope",
        intents=("logs",),
        calls=[(Q, {"query": CHECKOUT}), (Q, {"query": "(?i)payment declined"})],
        claims=["payment declined 402"],
    ),
    c("show api-server logs", "scope", intents=("logs",), calls=[(Q, {"query": API})], first="api-server (label app)"),
    c(
        "error rate for the frontend",
        "scope",
        calls=[(Q, {"query": '{app="frontend"}'})],
        claims=["16.7%"],
        first="frontend (label app)",
    ),
    c(
        "top errors in the scheduler",
        "scope",
        calls=[(PAT, {"query": '{app="scheduler"}'})],
        claims=["job sync failed: timeout"],
    ),
    # -- 2. general metrics questions -------------------------------------------------------------------------
    c(
        "Show me CPU per namespace",
        "metrics",
        intents=("metrics",),
        calls=[
            (F, {"keyword": "=cpu"}),
            (P, {"expr": "sum by (namespace) (rate(container_cpu_usage_seconds_total[5m]))"}),
        ],
        claims=["cores", "namespace=prod", "█"],
    ),
    c(
        "memory usage of robusta-runner over the last 24 hours",
        "metrics",
        intents=("metrics",),
        calls=[
            (F, {"keyword": "=memory"}),
            (P, {"expr": 'container_memory_working_set_bytes{container="robusta-runner"}', "since": "=24h"}),
        ],
        claims=["MiB", "min", "max"],
        first="robusta-runner",
    ),
    c(
        "what CPU metrics do we collect",
        "metrics",
        intents=("metrics",),
        calls=[(F, {"keyword": "=cpu"})],
        absent=[P],
        claims=["container_cpu_usage_seconds_total", "process_cpu_seconds_total", "counter"],
    ),
    c("what memory metrics do we have?", "metrics", absent=[P], claims=["container_memory_working_set_bytes", "gauge"]),
    c(
        "graph `container_memory_working_set_bytes`",
        "metrics",
        intents=("metrics",),
        calls=[(P, {"expr": "=container_memory_working_set_bytes"})],
        claims=["MiB"],
    ),
    c(
        "run `sum by (pod) (rate(container_cpu_usage_seconds_total[5m]))` for the last 6 hours",
        "metrics",
        calls=[(P, {"expr": "=sum by (pod) (rate(container_cpu_usage_seconds_total[5m]))", "since": "=6h"})],
        claims=["pod=api-server-7d9f8-x2b"],
    ),
    c("show `made_up_metric_total`", "metrics", absent=[P], claims=["Prometheus has no metric `made_up_metric_total`"]),
    c(
        "pod restarts per namespace today",
        "metrics",
        calls=[(P, {"expr": "sum by (namespace) (rate(kube_pod_container_status_restarts_total[5m]))"})],
    ),
    c(
        "kafka consumer lag by topic",
        "metrics",
        calls=[(F, {"keyword": "=lag"}), (P, {"expr": "sum by (topic) (kafka_consumergroup_lag)"})],
        claims=["topic=orders"],
    ),
    c(
        "db connections for checkout",
        "metrics",
        calls=[(P, {"expr": 'db_connections_open{app="checkout"}'})],
        claims=["now"],
    ),
    c("queue depth over the last 6 hours", "metrics", calls=[(P, {"expr": "job_queue_depth", "since": "=6h"})]),
    c(
        "network traffic per pod",
        "metrics",
        calls=[(P, {"expr": "sum by (pod) (rate(container_network_receive_bytes_total[5m]))"})],
    ),
    c("cpu usage of the scheduler", "metrics", calls=[(P, {"expr": 'process_cpu_seconds_total{job="scheduler"}'})]),
    c(
        "memory per pod",
        "metrics",
        calls=[(P, {"expr": "sum by (pod) (container_memory_working_set_bytes)"})],
        claims=["pod=", "MiB"],
    ),
    c(
        "which metrics about restarts exist?",
        "metrics",
        absent=[P],
        claims=["kube_pod_container_status_restarts_total"],
    ),
    # -- 3. plain trouble wording gets a triage answer --------------------------------------------------------
    c(
        "why did the front-end stop working?",
        "triage",
        intents=("triage",),
        calls=[(R, {"name": "=front-end"}), (Q, {"query": '{app="frontend"}'}), (ALERTS, {})],
        first="Scope: frontend (label app)",
        claims=["Error rate", "upstream connect error", "The window before"],
    ),
    c(
        "were there issues with the scheduler?",
        "triage",
        intents=("triage",),
        calls=[(Q, {"query": '{app="scheduler"}'})],
        claims=["job sync failed", "No firing alert mentions scheduler"],
    ),
    c(
        "api-server had problems this morning, what happened?",
        "triage",
        intents=("triage",),
        calls=[(Q, {"query": API})],
        claims=["API server 5xx", "Slowest endpoint: */orders*"],
    ),
    c("is checkout down?", "triage", intents=("triage",), calls=[(Q, {"query": CHECKOUT})]),
    c("what's wrong with payments-api?", "triage", calls=[(Q, {"query": '{app="payments-api"}'})]),
    c(
        "something is off with robusta-runner, can you investigate?",
        "triage",
        intents=("triage",),
        calls=[(R, {"name": "=robusta-runner"})],
    ),
    c("troubleshoot the scheduler", "triage", calls=[(Q, {"query": '{app="scheduler"}'})]),
    c("the api-server is misbehaving", "triage", intents=("triage",), calls=[(Q, {"query": API})]),
    c("root cause of the checkout outage", "triage", calls=[(Q, {"query": CHECKOUT})]),
    c(
        "were there problems in the last 2 hours?",
        "triage",
        intents=("triage",),
        absent=[R],
        calls=[(Q, {"since": "=2h"})],
        first="Scope: all services",
        claims=["2 alerts firing"],
    ),
    c(
        "billing had problems this morning, what happened?",
        "triage",
        calls=[(R, {"name": "=billing"})],
        first="no stream or series labelled billing",
    ),
    c(
        "health of the api-server",
        "triage",
        intents=("triage",),
        calls=[(Q, {"query": API})],
        claims=["*1 alert about api-server*"],
    ),
    c(
        "ghost-app stopped working",
        "triage",
        calls=[(R, {"name": "=ghost-app"})],
        first="no stream or series labelled ghost-app",
    ),
    c("what happened to the frontend?", "triage", intents=("triage",), calls=[(Q, {"query": '{app="frontend"}'})]),
    c("debug checkout", "triage", intents=("triage",), calls=[(PAT, {"query": CHECKOUT})]),
    # -- 4. times ---------------------------------------------------------------------------------------------
    c(
        "error rate since last Thursday",
        "time",
        fixed_now=True,
        calls=[(Q, {"since": "=107h"})],
        first="since Thu 26 Nov 00:00 UTC",
    ),
    c("errors since June 12", "time", fixed_now=True, first="since 12 Jun 00:00 UTC"),
    c(
        "what happened on 2 August around 13:45 UTC",
        "time",
        fixed_now=True,
        calls=[(Q, {"start": "=2026-08-02T13:15:00Z", "end": "=2026-08-02T14:15:00Z"})],
        first="2 Aug 13:15–14:15 UTC",
    ),
    c(
        "errors between 9 and 10 this morning",
        "time",
        fixed_now=True,
        calls=[(Q, {"start": "=2026-11-30T09:00:00Z", "end": "=2026-11-30T10:00:00Z"})],
    ),
    c("logs from today", "time", fixed_now=True, calls=[(Q, {"since": "=11h"})], first="since 00:00 UTC"),
    c(
        "error rate yesterday",
        "time",
        fixed_now=True,
        calls=[(Q, {"start": "=2026-11-29T00:00:00Z", "end": "=2026-11-30T00:00:00Z"})],
    ),
    c("errors in the last 6 hours", "time", calls=[(Q, {"since": "=6h"}), (PAT, {"since": "=6h"})]),
    c("checkout logs past 30 minutes", "time", calls=[(Q, {"since": "=30m", "query": CHECKOUT})]),
    c(
        "errors since the outage",
        "time",
        first='could not read the time "since the outage"',
        calls=[(Q, {"since": "=1h"})],
    ),
    c("logs on 31 february", "time", first='could not read the time "on 31 february"'),
    c(
        "errors at 14:00 UTC yesterday",
        "time",
        fixed_now=True,
        calls=[(Q, {"start": "=2026-11-29T13:30:00Z", "end": "=2026-11-29T14:30:00Z"})],
    ),
    c("p95 latency since 8am", "time", fixed_now=True, calls=[(P, {"since": "=3h"})], first="since 08:00 UTC"),
    c("agent failures since last thursday", "time", fixed_now=True, calls=[("amplitude_query_events", {"days": "=5"})]),
    c(
        "api-server errors from 2pm to 3:30pm yesterday",
        "time",
        fixed_now=True,
        calls=[(Q, {"query": API, "start": "=2026-11-29T14:00:00Z", "end": "=2026-11-29T15:30:00Z"})],
    ),
    # -- 5. word senses ---------------------------------------------------------------------------------------
    c("status", "senses", intents=("status",), absent=GRAFANA_DATA, claims=["integrations are ready"]),
    c("sitrep status", "senses", intents=("status",), claims=["integrations are ready"]),
    c(
        "what http status codes do we have for /orders",
        "senses",
        intents=("codes",),
        calls=[(Q, {"query": "|= `/orders`"})],
        claims=["*200* ×60", "*503* ×8", "*201* ×10"],
        forbid=["integrations are ready"],
    ),
    c(
        "status codes of the checkout app",
        "senses",
        intents=("codes",),
        calls=[(Q, {"query": CHECKOUT})],
        claims=["*402* ×2"],
        forbid=["integrations are ready"],
    ),
    c("response codes on /health", "senses", intents=("codes",), claims=["*200* ×20"]),
    c(
        "is the kubernetes deployment api-server healthy?",
        "senses",
        intents=("triage",),
        absent=["amplitude_get_chart_annotations"],
        calls=[(Q, {"query": API})],
    ),
    c(
        "how many pods does the checkout deployment have restarting?",
        "senses",
        absent=["amplitude_get_chart_annotations"],
    ),
    c("any releases this week?", "senses", intents=("releases",), claims=["v2.4.0"]),
    c("did we deploy yesterday?", "senses", intents=("releases",)),
    c("the checkout page is slow", "senses", intents=("latency",), absent=[ALERTS]),
    c("errors on the checkout page", "senses", intents=("errors",), absent=[ALERTS]),
    c(
        "what about checkout?",
        "senses",
        history=["error rate of api-server"],
        intents=("errors",),
        calls=[(Q, {"query": CHECKOUT})],
        forbid=['app="api-server"'],
    ),
    c(
        "and over the last 6 hours?",
        "senses",
        history=["error rate of api-server"],
        calls=[(Q, {"query": API, "since": "=6h"})],
    ),
    c("and the logs?", "senses", history=["error rate of api-server"], intents=("logs",), calls=[(Q, {"query": API})]),
    c(
        "show the logs of the scheduler",
        "senses",
        history=["error rate of api-server"],
        calls=[(Q, {"query": '{app="scheduler"}'})],
        forbid=['app="api-server"'],
    ),
    c("agent status", "senses", intents=("agents",)),
    # -- 6. systems sitrep cannot see -------------------------------------------------------------------------
    c("my AWS Lambda has high latency", "external", claims=["I can't see AWS Lambda", "CloudWatch"], absent=[P, Q]),
    c("is our RDS database slow?", "external", claims=["I can't see AWS RDS"], absent=[P, Q]),
    c("SQS queue depth on aws", "external", claims=["I can't see AWS SQS"], absent=[P]),
    c("Cloudflare 5xx rate today", "external", claims=["I can't see Cloudflare"], absent=[Q]),
    c("BigQuery job failures yesterday", "external", claims=["I can't see GCP Bigquery"], absent=[Q]),
    c("what does datadog say about checkout?", "external", claims=["I can't see Datadog"], absent=[Q, P]),
    # -- basics still work ------------------------------------------------------------------------------------
    c("what's the error rate?", "basics", intents=("errors",), first="Scope: all services, last hour"),
    c("any alerts firing?", "basics", intents=("alerts",), claims=["*2 alerts firing*", "Disk almost full"]),
    c("list dashboards", "basics", intents=("dashboards",)),
    c("how is prod?", "basics", intents=("errors", "alerts")),
    c("show me the logs", "basics", intents=("logs",)),
    c("is latency up? p95", "basics", intents=("latency",), claims=["P95 latency"]),
    c("agent events today", "basics", intents=("agents",)),
    c("tell me a joke", "basics", intents=(), claims=["Without an Anthropic API key"]),
]


def _matches(value: Any, want: str) -> bool:
    text = value if isinstance(value, str) else json.dumps(value)
    return text == want[1:] if want.startswith("=") else want in text


async def check(box: Toolbox, case: Case, answer: str, intents: tuple[str, ...]) -> list[str]:
    """What the case expected and did not get, one line each (empty when it passed)."""
    miss: list[str] = []
    if case.intents is not None and intents != case.intents:
        miss.append(f"intents {intents}, expected {case.intents}")
    calls = [o.call for o in box.outcomes]
    for name, args in case.calls:
        if not any(c.name == name and all(_matches(c.args.get(k), v) for k, v in args.items()) for c in calls):
            seen = [c.args for c in calls if c.name == name]
            miss.append(f"no {name} call with {args}; made {seen}")
    for name in case.absent:
        if any(c.name == name for c in calls):
            miss.append(f"{name} was called")
    errors = [o.error for o in box.outcomes if not o.ok]
    if errors:
        miss.append(f"tool errors {errors}")
    miss += [f"answer lacks {p!r}" for p in case.claims if p not in answer]
    miss += [f"answer has {p!r}" for p in case.forbid if p in answer]
    first = answer.split("\n", 1)[0]
    if case.first and case.first not in first:
        miss.append(f"first line {first!r} lacks {case.first!r}")
    return miss


async def run_table(tmp_path: Path, cases: list[Case] | None = None) -> dict[str, list[str]]:
    """Every case against the evaluation world: question -> what it missed (empty = passed)."""
    results: dict[str, list[str]] = {}
    async with world(tmp_path, key=False, serve_slack=False, seeder=seed_cluster) as w:
        team = await w.services.team_for(None)
        for case in cases or CASES:
            now = FIXED_NOW if case.fixed_now else datetime.now(UTC)
            box = await Toolbox.for_team(w.services, team, include_unconfigured=True, allow_write=True)
            the_plan = plan(case.question, now, list(case.history))
            answer = await answer_with_rules(box, the_plan, services=w.services, team=team)
            results[case.question] = await check(box, case, answer, the_plan.intents)
    return results


def pass_rates(results: dict[str, list[str]]) -> dict[str, tuple[int, int]]:
    """pattern -> (passed, total), plus "all"."""
    by: dict[str, Counter[str]] = {}
    for case in CASES:
        if case.question not in results:
            continue
        counts = by.setdefault(case.pattern, Counter())
        counts["total"] += 1
        counts["passed"] += not results[case.question]
    out = {p: (n["passed"], n["total"]) for p, n in by.items()}
    out["all"] = (sum(p for p, _ in out.values()), sum(t for _, t in out.values()))
    return out
