-- One investigation per alert and firing period: (team, fingerprint, starts_at) is claimed by an INSERT, so a
-- re-notification, a flood of them, or two replicas handed the same alert, make one investigation whose Slack reply
-- is edited in place. starts_at is the alert's startsAt (UTC ISO text), or, for a Slack message that carries none,
-- the time sitrep first saw it while no investigation of that fingerprint was open.
CREATE TABLE alert_investigations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    alert_name TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL DEFAULT '',
    thread_ts TEXT NOT NULL DEFAULT '',
    reply_ts TEXT NOT NULL DEFAULT '',
    reply_text TEXT NOT NULL DEFAULT '',
    notifications INTEGER NOT NULL DEFAULT 1,
    resolved_at TEXT,
    -- when a replica last took the investigation on (its claim, or a take-over); NULL: released after a failure
    investigating_since TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    UNIQUE (team_id, fingerprint, starts_at)
);

CREATE INDEX alert_investigations_open ON alert_investigations (team_id, fingerprint, resolved_at);
