-- Several replicas on one database. replicas: one heartbeat row per running process (seen_at refreshed every
-- few seconds), so readiness can count them and a replica can tell that another one died.
-- slack_events: every Slack event_id recorded before its envelope is acked; the primary key makes the first
-- replica to record it the only one to handle it, whichever connection Slack retried on. An event that gets an
-- answer stays 'received' until its answer is being posted ('posting', then 'done'); if its replica dies
-- while it is 'received', a live replica adopts and answers it.
CREATE TABLE replicas (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    seen_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);

CREATE TABLE slack_events (
    event_id TEXT PRIMARY KEY,
    team_id TEXT,
    event_type TEXT,
    replica TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('received', 'posting', 'done')),
    payload TEXT,
    attempts INTEGER NOT NULL DEFAULT 1,
    received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    finished_at TEXT
);

CREATE INDEX slack_events_open ON slack_events (status, received_at);
