-- The Vercel log-drain relay: batches Loki would not take for long wait here (oldest first) until it is back,
-- and one row of the relay's status (last request, last push, counters) that readiness reads from any process.
CREATE TABLE drain_spill (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    lines INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    body BLOB NOT NULL
);

CREATE TABLE drain_status (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    document TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
