"""The evaluation's Grafana: a small Kubernetes shop. Loki streams labelled app/namespace/pod (JSON lines with
statusCode and path), Prometheus series with metadata (CPU, memory, restarts, lag, queue, connections, network, a
latency histogram by route), and two firing alerts. Amplitude is the agent world's."""

from __future__ import annotations

import json
import time

from tests.fakes.amplitude import FakeAmplitude
from tests.fakes.grafana import FakeGrafana
from tests.support.agent_world import seed as seed_agents

STEP_S = 120  # one Prometheus sample every 2 minutes: rate(x[5m]) sees two
HOURS = 26

STREAMS = {
    ("api-server", "prod", "api-server-7d9f8-x2b"): [
        ({"path": "/orders", "statusCode": 200, "message": "GET /orders 200"}, 60),
        ({"path": "/orders", "statusCode": 503, "message": "GET /orders 503 upstream timeout"}, 8),
        ({"path": "/orders", "statusCode": 201, "message": "POST /orders 201"}, 10),
        ({"path": "/health", "statusCode": 200, "message": "GET /health 200"}, 20),
        ({"level": "error", "message": "Error: query failed: deadline exceeded after 5000ms"}, 4),
    ],
    ("checkout", "prod", "checkout-5c6d-q1"): [
        ({"path": "/checkout", "statusCode": 200, "message": "GET /checkout 200"}, 40),
        ({"level": "error", "message": "Error: query failed: connection refused"}, 6),
        ({"path": "/checkout", "statusCode": 402, "message": "payment declined 402"}, 2),
    ],
    ("frontend", "web", "frontend-6b7c-z9"): [
        ({"path": "/", "statusCode": 200, "message": "GET / 200"}, 50),
        ({"path": "/", "statusCode": 502, "message": "Error: upstream connect error 502"}, 10),
    ],
    ("scheduler", "ops", "scheduler-0"): [
        ({"message": "job ran: nightly-report"}, 30),
        ({"level": "error", "message": "Error: job sync failed: timeout after 30s"}, 5),
    ],
    ("payments-api", "payments", "payments-api-84d2-k7"): [
        ({"path": "/pay", "statusCode": 200, "message": "POST /pay 200"}, 25),
    ],
    ("robusta-runner", "monitoring", "robusta-runner-58f9-abc"): [
        ({"message": "playbook finished"}, 12),
    ],
}
METADATA = {
    "container_cpu_usage_seconds_total": ("counter", "Cumulative cpu time consumed in seconds."),
    "process_cpu_seconds_total": ("counter", "Total user and system CPU time spent in seconds."),
    "container_memory_working_set_bytes": ("gauge", "Current working set of the container in bytes."),
    "kube_pod_container_status_restarts_total": ("counter", "The number of container restarts per container."),
    "kafka_consumergroup_lag": ("gauge", "Current approximate lag of a consumer group at topic/partition."),
    "job_queue_depth": ("gauge", "Jobs waiting in the queue."),
    "db_connections_open": ("gauge", "Open connections to the database."),
    "container_network_receive_bytes_total": ("counter", "Cumulative count of bytes received."),
    "http_request_duration_seconds": ("histogram", "HTTP request latency by route."),
}


def seed_cluster(g: FakeGrafana, amp: FakeAmplitude) -> None:
    seed_agents(FakeGrafana(), amp)  # Amplitude as in the agent world; its Grafana part is thrown away
    _logs(g)
    _metrics(g)
    g.alert_groups = [
        {
            "name": "k8s",
            "file": "Cluster",
            "rules": [
                _rule("API server 5xx", {"app": "api-server", "severity": "page"}, "503s above 5% on api-server"),
                _rule("Disk almost full", {"namespace": "ops", "severity": "ticket"}, "PVC data-0 at 91%"),
            ],
        }
    ]


def _rule(name: str, labels: dict[str, str], summary: str) -> dict:
    return {
        "name": name,
        "state": "firing",
        "type": "alerting",
        "health": "ok",
        "labels": {"team": "sre"},
        "annotations": {"summary": summary},
        "alerts": [{"labels": labels, "state": "Alerting", "activeAt": "2026-11-30T08:10:00Z"}],
    }


def _logs(g: FakeGrafana) -> None:
    for (app, ns, pod), kinds in STREAMS.items():
        lines: list[str] = []
        for body, count in kinds:
            lines += [json.dumps(body)] * count
        # interleave so every kind is spread over the last ~10 minutes
        lines = [lines[i] for i in sorted(range(len(lines)), key=lambda i: (i * 7919) % len(lines))]
        g.add_logs({"app": app, "namespace": ns, "pod": pod}, lines, gap_s=5)


def _metrics(g: FakeGrafana) -> None:
    now = time.time()
    times = [now - STEP_S * i for i in range(HOURS * 3600 // STEP_S, -1, -1)]
    pods = [(ns, pod, app) for (app, ns, pod) in STREAMS]
    for i, (ns, pod, app) in enumerate(pods):
        cores, used, samples = 0.1 * (i + 1), 0.0, []
        for k, t in enumerate(times):  # a busy hour every ten samples
            used += cores * STEP_S * (1 + (k % 10) / 10)
            samples.append((t, round(used, 3)))
        g.add_series(
            {"__name__": "container_cpu_usage_seconds_total", "namespace": ns, "pod": pod, "container": app}, samples
        )
        g.add_series(
            {"__name__": "container_memory_working_set_bytes", "namespace": ns, "pod": pod, "container": app},
            [(t, (100 + 20 * i) * 2**20 + (k % 6) * 2**20) for k, t in enumerate(times)],
        )
        g.add_series(
            {"__name__": "kube_pod_container_status_restarts_total", "namespace": ns, "pod": pod, "container": app},
            [(t, k // 100 if app == "scheduler" else 0) for k, t in enumerate(times)],
        )
    g.add_series(
        {"__name__": "process_cpu_seconds_total", "job": "scheduler"}, [(t, 0.05 * (t - times[0])) for t in times]
    )
    for topic, lag in (("orders", 120), ("payments", 8)):
        g.add_series(
            {"__name__": "kafka_consumergroup_lag", "consumergroup": "billing", "topic": topic},
            [(t, lag + k % 10) for k, t in enumerate(times)],
        )
    g.add_series({"__name__": "job_queue_depth", "job": "scheduler"}, [(t, 3 + k % 4) for k, t in enumerate(times)])
    g.add_series({"__name__": "job_queue_depth", "job": "etl-worker"}, [(t, 40 + k % 7) for k, t in enumerate(times)])
    g.add_series({"__name__": "db_connections_open", "app": "checkout"}, [(t, 20 + k % 3) for k, t in enumerate(times)])
    g.add_series({"__name__": "db_connections_open", "app": "api-server"}, [(t, 45) for t in times])
    for ns, pod, app in pods[:2]:
        g.add_series(
            {"__name__": "container_network_receive_bytes_total", "namespace": ns, "pod": pod, "container": app},
            [(t, 5000 * (t - times[0])) for t in times],
        )
    for route, slow in (("/orders", 0.9), ("/health", 0.02), ("/checkout", 0.4)):
        app = "checkout" if route == "/checkout" else "api-server"
        for le in ("0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"):
            share = 1.0 if le == "+Inf" or float(le) >= slow * 1.2 else (0.2 if float(le) >= slow / 2 else 0.05)
            g.add_series(
                {"__name__": "http_request_duration_seconds_bucket", "le": le, "route": route, "app": app},
                [(t, round(share * 10 * (t - times[0]), 3)) for t in times],
            )
    g.prom_metadata = {
        name: [{"type": kind, "help": help_text, "unit": ""}] for name, (kind, help_text) in METADATA.items()
    }
