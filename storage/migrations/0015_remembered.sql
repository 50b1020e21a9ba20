-- What an integration looked up that is worth keeping across restarts (the report's Grafana discovery: data source
-- UIDs, the Loki selector, the latency histogram), per team and name, as JSON. A value here is only ever served
-- as stale: the first use after a restart refreshes it behind (skills/cache.py). `found_at` is UTC ISO 8601 text.
CREATE TABLE remembered (
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    found_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    PRIMARY KEY (team_id, name)
);
