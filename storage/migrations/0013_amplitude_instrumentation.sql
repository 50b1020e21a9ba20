-- The pull request sitrep opened to instrument a repository with Amplitude's tracking plan, one row per team and
-- repository (a second run updates the same pull request, so the same row). The Amplitude readiness row reads the
-- latest, to say which pull request turned it Ready, or which one to merge while the app sends no events.
CREATE TABLE amplitude_instrumentation (
    team_id TEXT NOT NULL,
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    url TEXT NOT NULL,
    branch TEXT NOT NULL,
    commit_sha TEXT NOT NULL,
    points INTEGER NOT NULL DEFAULT 0,
    opened_by TEXT NOT NULL DEFAULT '',
    opened_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    PRIMARY KEY (team_id, repo)
);
