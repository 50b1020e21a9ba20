"""The evaluation table's questions (tests/support/eval_table.py runs them): each names its pattern (scope, metrics,
triage, time, senses, external, basics), the tool calls it must make with arguments that must contain the given
text ("=..." for an exact value), the tools it must not call, and the claims its answer must and must not make."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

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

SUBJECT_CASES: list[Case] = [
    # -- 1. the subject narrows the query -------------------------------------------------------------------
    c(
        "Troubleshoot 503 errors in the api-server service",
        "scope",
        intents=("triage",),
        calls=[(R, {"name": "=api-server"}), (Q, {"query": API}), (Q, {"query": r"\b503\b"})],
        first="Scope: api-server (label app)",
        claims=["; with 503", "Error rate"],
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
        claims=["; with 5xx and /orders"],
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
        first="no stream or series labelled billing; showing all logs with 503",
        forbid=['app="billing"'],
    ),
    c(
        "show logs of the ghost-service app",
        "scope",
        intents=("logs",),
        calls=[(R, {"name": "=ghost-service"})],
        first="no stream or series labelled ghost-service; showing everything",
    ),
    c("errors on /health", "scope", calls=[(Q, {"query": "|= `/health`"})], claims=["; with /health"]),
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
    c(
        "what are the top 5 error messages in namespace prod today?",
        "scope",
        calls=[(PAT, {"query": '{namespace="prod"}'})],
        first="Scope: prod (label namespace)",
    ),
    c(
        "Were there timeouts in the checkout logs?",
        "scope",
        intents=("logs",),
        calls=[(Q, {"query": CHECKOUT}), (Q, {"query": "(?i)timeout"})],
    ),
    c(
        "error logs for app=checkout",
        "scope",
        intents=("logs",),
        calls=[(R, {"name": "=checkout", "kind": "=app"}), (Q, {"query": CHECKOUT})],
    ),
    c(
        "Show me 503 errors for the orders endpoint",
        "scope",
        calls=[(Q, {"query": "|= `/orders`"})],
        absent=[R],
        claims=["8 error lines"],
    ),
    c(
        "what's the latency of /checkout over the last 12 hours",
        "scope",
        intents=("latency",),
        calls=[(P, {"expr": 'route=~".*(/checkout).*"', "since": "=12h"})],
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
        "What is consuming the most memory in the prod namespace?",
        "metrics",
        calls=[(P, {"expr": 'sum by (pod) (container_memory_working_set_bytes{namespace="prod"})'})],
        first="Scope: prod (label namespace)",
    ),
    c(
        "which metrics about restarts exist?",
        "metrics",
        absent=[P],
        claims=["kube_pod_container_status_restarts_total"],
    ),
]
