-- Scheduled jobs (the two seeded status reports, per team) and their run ledger.
-- job_runs is unique on (job_id, scheduled_for): claiming a slot is an INSERT, so two processes
-- sharing this database post each slot once. scheduled_for is the trigger's fire time in UTC,
-- ISO 8601 with seconds (2026-03-09T15:00:00Z).
CREATE TABLE scheduled_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    cron TEXT NOT NULL,
    timezone TEXT NOT NULL,
    channel TEXT,
    kind TEXT NOT NULL DEFAULT 'status_report' CHECK (kind IN ('status_report')),
    enabled INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    UNIQUE (team_id, name)
);

CREATE TABLE job_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL REFERENCES scheduled_jobs (id) ON DELETE CASCADE,
    scheduled_for TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'posted', 'failed', 'missed')),
    started_at TEXT,
    finished_at TEXT,
    message_ts TEXT,
    channel TEXT,
    error TEXT,
    UNIQUE (job_id, scheduled_for)
);

CREATE INDEX job_runs_status ON job_runs (status, started_at);
