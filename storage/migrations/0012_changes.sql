-- Changes, one table for every kind sitrep relates a jump to: commits pushed to routed repos' default branches
-- (source github, recorded from push webhooks or polling; moved here from github_changes, which is dropped) and
-- Vercel deployments (source vercel, recorded from the first log-drain entry of a new deploymentId). Grafana
-- annotations are not copied here: they stay Grafana's, read live through its API (skills/changes/recent.py), so
-- one edited or deleted in Grafana is never shown stale. `subject` is the repo or the Vercel project, `ref` the
-- commit sha or the deployment id; `at` is UTC ISO 8601 text, so it sorts as text on both backends.
CREATE TABLE changes (
    source TEXT NOT NULL,
    subject TEXT NOT NULL,
    ref TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    author TEXT NOT NULL DEFAULT '',
    branch TEXT NOT NULL DEFAULT '',
    environment TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL,
    url TEXT,
    via TEXT NOT NULL DEFAULT '',
    recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    PRIMARY KEY (source, subject, ref)
);

CREATE INDEX changes_time ON changes (at);

INSERT INTO changes (source, subject, ref, kind, title, author, branch, at, url, via)
SELECT 'github', repo, sha, 'push', message, author, branch, committed_at, url, source FROM github_changes;

DROP TABLE github_changes;

-- What each posted scheduled report found (figures, error patterns, firing alerts as JSON), so the next report of
-- the same job can say what is new since it; and the Slack thread it went into, for reports posted one thread
-- per day (`day` is the report's date in the job's time zone; `thread_ts` the day's first message).
CREATE TABLE report_snapshots (
    job_id INTEGER NOT NULL REFERENCES scheduled_jobs (id) ON DELETE CASCADE,
    scheduled_for TEXT NOT NULL,
    taken_at TEXT NOT NULL,
    day TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT '',
    message_ts TEXT NOT NULL DEFAULT '',
    thread_ts TEXT NOT NULL DEFAULT '',
    snapshot TEXT NOT NULL,
    PRIMARY KEY (job_id, scheduled_for)
);

ALTER TABLE scheduled_jobs ADD COLUMN thread_per_day INTEGER NOT NULL DEFAULT 0 CHECK (thread_per_day IN (0, 1));
