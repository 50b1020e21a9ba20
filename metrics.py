"""sitrep's own Prometheus metrics, served at GET /metrics (bot/web.py). docs/metrics.md lists them.

Every metric is defined here, in one module below every layer (it imports only prometheus-client), so storage,
skills, the agent, the reports and the Slack surfaces can count without importing one another. They live in
their own registry, with the process and GC collectors, so a test can read them and /metrics shows only sitrep.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    ProcessCollector,
    generate_latest,
)

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

QUESTIONS = Counter(
    "sitrep_questions",
    "Questions answered, by where they came from (mention, dm, command, shortcut, shell) and who planned the answer "
    "(claude or rules).",
    ["source", "planner"],
    registry=REGISTRY,
)
ANSWER_SECONDS = Histogram(
    "sitrep_answer_seconds",
    "Time from a question to its answer, by planner.",
    ["planner"],
    buckets=(0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120),
    registry=REGISTRY,
)
REPORTS_POSTED = Counter(
    "sitrep_reports_posted",
    "Status reports posted to Slack.",
    registry=REGISTRY,
)
REPORT_SECTIONS_FAILED = Counter(
    "sitrep_report_sections_failed",
    "Report sections that failed (an upstream error or timeout), by integration.",
    ["integration"],
    registry=REGISTRY,
)
UPSTREAM_REQUESTS = Counter(
    "sitrep_upstream_requests",
    "HTTP requests to an integration (every attempt, retries included), by integration and status code "
    "('error' when no response came back).",
    ["integration", "status"],
    registry=REGISTRY,
)
UPSTREAM_RATE_LIMITED = Counter(
    "sitrep_upstream_rate_limited",
    "Responses with status 429 (rate limited), by integration.",
    ["integration"],
    registry=REGISTRY,
)
MODEL_TOKENS = Counter(
    "sitrep_model_tokens",
    "Claude tokens, by feature (answers, summaries, alerts, reviews) and kind: input (uncached), cache_write "
    "(written to the prompt cache), cache_read (read from it), output (what it wrote, thinking included).",
    ["feature", "kind"],
    registry=REGISTRY,
)
MODEL_CALLS = Counter(
    "sitrep_model_calls",
    "Claude calls, by feature and what the prompt cache did: hit (read a cached prefix), write (wrote one, read "
    "none), miss (neither).",
    ["feature", "cache"],
    registry=REGISTRY,
)
MODEL_COST = Counter(
    "sitrep_model_cost_dollars",
    "Claude's estimated cost in US dollars, by feature, from the price table (agent/pricing.py, "
    "SITREP_MODEL_PRICES); models without a price count 0.",
    ["feature"],
    registry=REGISTRY,
)
MODEL_BUDGET_REFUSALS = Counter(
    "sitrep_model_budget_refusals",
    "Claude calls not made because the team's daily token budget was spent, by feature.",
    ["feature"],
    registry=REGISTRY,
)
SCHEDULER_SLOTS = Counter(
    "sitrep_scheduler_slots",
    "Report slots, by outcome: claimed (this process runs it), missed (past the grace window while down), "
    "caught_up (run late at start-up, inside the grace window), taken_over (a run whose sitrep died, finished here).",
    ["outcome"],
    registry=REGISTRY,
)
HTTP_REFUSED = Counter(
    "sitrep_http_refused",
    "Requests and connections the web server refused or closed before a route answered them, by reason "
    "(slow_head, slow_body, connections, busy, client_gone, unauthenticated).",
    ["reason"],
    registry=REGISTRY,
)
SLACK_SENT = Counter(
    "sitrep_slack_sent",
    "Slack posts and edits the outbox finished, by method (chat.postMessage, chat.update) and outcome (sent, failed).",
    ["method", "outcome"],
    registry=REGISTRY,
)
SLACK_RATE_LIMITED = Counter(
    "sitrep_slack_rate_limited",
    "Slack answers 429 (rate limited) to the outbox's posts and edits, by method: each is sent again after its "
    "Retry-After.",
    ["method"],
    registry=REGISTRY,
)


def count_upstream(integration: str, status: int | None) -> None:
    """One HTTP attempt to `integration`; status None when it failed before a response."""
    UPSTREAM_REQUESTS.labels(integration=integration, status=str(status) if status else "error").inc()
    if status == 429:
        UPSTREAM_RATE_LIMITED.labels(integration=integration).inc()


def count_question(source: str, planner: str, seconds: float) -> None:
    QUESTIONS.labels(source=source or "unknown", planner=planner).inc()
    ANSWER_SECONDS.labels(planner=planner).observe(max(0.0, seconds))


def count_model_call(feature: str, input: int, cache_write: int, cache_read: int, output: int, cost: float) -> None:
    """One Claude call: its tokens by kind, what the cache did, its estimated cost."""
    for kind, tokens in (
        ("input", input),
        ("cache_write", cache_write),
        ("cache_read", cache_read),
        ("output", output),
    ):
        MODEL_TOKENS.labels(feature=feature, kind=kind).inc(tokens)
    cache = "hit" if cache_read else "write" if cache_write else "miss"
    MODEL_CALLS.labels(feature=feature, cache=cache).inc()
    MODEL_COST.labels(feature=feature).inc(max(0.0, cost))


def exposition() -> tuple[bytes, str]:
    """The text exposition format and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def value(name: str, labels: dict[str, str] | None = None) -> float:
    """One sample's current value (0 when absent): for tests and the benchmark."""
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0
