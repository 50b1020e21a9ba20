"""What both database backends share: migration files, the statement splitter, URL parsing, errors.

Stores write one dialect: SQLite's, restricted to what PostgreSQL also understands (`?` placeholders,
`ON CONFLICT … DO NOTHING/DO UPDATE`, `RETURNING`, `strftime('%Y-%m-%dT%H:%M:%fZ','now')` timestamps as ISO text,
`FOR UPDATE SKIP LOCKED` on a queue). The few differences are translated in one place per backend:
`storage/pg_dialect.py` for PostgreSQL, `SQLITE_ONLY` below for SQLite.

Migrations are `migrations/NNNN_name.sql` (0001 teams, credentials, audit; 0002 scheduled_jobs, job_runs; 0003
answers, feedback, threads, turns; 0004 GitHub; 0005 drain_spill, drain_status; 0006 the run lease; 0007 each
report job's sections and window; 0008 replicas, slack_events; 0009 spill claims), the same files on both
backends, applied in order at open and recorded in `schema_migrations`; re-running applies nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Row locks SQLite has no syntax for; its BEGIN IMMEDIATE already holds the one write lock, so they go.
_ROW_LOCK = re.compile(r"\s+FOR\s+UPDATE(\s+SKIP\s+LOCKED|\s+NOWAIT)?\b", re.IGNORECASE)

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"  # the current time as stored: ISO 8601 UTC, milliseconds


class DatabaseUnavailable(RuntimeError):
    """The database could not be reached, even after retrying with backoff."""


def migration_files() -> list[tuple[int, Path]]:
    files = []
    for file in MIGRATIONS_DIR.glob("*.sql"):
        match = _NAME.match(file.name)
        if not match:
            raise RuntimeError(f"migration file name {file.name!r} must look like 0001_name.sql")
        files.append((int(match.group(1)), file))
    files.sort()
    versions = [v for v, _ in files]
    if len(set(versions)) != len(versions):
        raise RuntimeError("two migrations share a number")
    return files


def split_sql(script: str) -> list[str]:
    """Split a migration into statements (our migrations use no semicolons inside literals or triggers)."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def sqlite_sql(sql: str) -> str:
    """The one translation SQLite needs: drop row-lock clauses (FOR UPDATE [SKIP LOCKED])."""
    return _ROW_LOCK.sub("", sql) if "FOR" in sql.upper() else sql


def backend_of(target: str | Path) -> str:
    """'postgresql' for a postgresql:// (or postgres://) URL, else 'sqlite' (a file path)."""
    text = str(target)
    return POSTGRESQL if text.startswith(("postgresql://", "postgres://")) else SQLITE


def safe_url(url: str) -> str:
    """A PostgreSQL URL fit for a log line or an error message: the password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":***"
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[-1]}"))


def row_dict(row: Any) -> dict[str, Any]:
    """A row of either backend as a plain dict."""
    return {key: row[key] for key in row.keys()}
