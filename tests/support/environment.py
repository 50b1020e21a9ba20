"""What the tests share about their environment: the repository root, the database backends a suite runs on, and
a clean environment for a sitrep subprocess."""

from __future__ import annotations

import os
from pathlib import Path

from storage.sql import POSTGRESQL, SQLITE

BACKENDS = [SQLITE, POSTGRESQL]
PGBOUNCER = "pgbouncer"  # PostgreSQL reached through PgBouncer in transaction mode (a test backend, not a store's)
# The store suites also run through the pooler; the layers above them (scheduler, Slack, drain relay) meet it in
# the two-replica e2e tests (tests/e2e/test_replicas_e2e.py), which keeps the suite's time in bounds.
STORE_BACKENDS = [*BACKENDS, PGBOUNCER]

ROOT = Path(__file__).resolve().parents[2]  # the repository (pyproject's pytest `pythonpath`)

# Variables a developer's shell may carry that would change what the tests see.
APP_VARS = [
    name
    for name in os.environ
    if name.startswith(("SLACK_", "SITREP_", "GRAFANA_", "AMPLITUDE_", "GITHUB_", "ANTHROPIC_", "VERCEL_", "LOKI_"))
]


def subprocess_env(extra: dict[str, str]) -> dict[str, str]:
    """The current environment without sitrep's variables, plus `extra`."""
    base = {k: v for k, v in os.environ.items() if k not in APP_VARS}
    base.update(extra)
    base["PYTHONPATH"] = str(ROOT)
    return base
