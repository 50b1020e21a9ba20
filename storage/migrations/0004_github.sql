-- GitHub: the App installation linked to each team, the review ledger (one review per pull-request head,
-- claimed with an INSERT so two processes on one database review a head once), webhook deliveries seen
-- (de-duplicated on X-GitHub-Delivery), polling state (the last ETag and default-branch commit per repo),
-- changes pushed to routed repos' default branches (a failed review, or one whose process died, may be
-- claimed again a few times), and the signed single-use states of the install link.
CREATE TABLE github_installations (
    team_id TEXT PRIMARY KEY REFERENCES teams (id) ON DELETE CASCADE,
    installation_id INTEGER NOT NULL,
    account TEXT NOT NULL DEFAULT '',
    linked_by TEXT NOT NULL,
    linked_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    suspended INTEGER NOT NULL DEFAULT 0 CHECK (suspended IN (0, 1))
);

CREATE TABLE github_reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    head_sha TEXT NOT NULL,
    -- '' for the automatic review of a head; a forced review ("@sitrep review") carries its own key
    forced_by TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'posted', 'failed', 'skipped')),
    review_url TEXT,
    inline_comments INTEGER NOT NULL DEFAULT 0,
    planner TEXT,
    tokens_in INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 1,
    claimed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    finished_at TEXT,
    UNIQUE (repo, number, head_sha, forced_by)
);

CREATE INDEX github_reviews_claimed ON github_reviews (team_id, claimed_at);

CREATE TABLE github_deliveries (
    delivery_id TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);

CREATE TABLE github_poll_state (
    repo TEXT PRIMARY KEY,
    pulls_etag TEXT,
    last_commit_at TEXT,
    polled_at TEXT
);

CREATE TABLE github_changes (
    repo TEXT NOT NULL,
    sha TEXT NOT NULL,
    branch TEXT NOT NULL,
    author TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    committed_at TEXT NOT NULL,
    url TEXT,
    source TEXT NOT NULL,
    PRIMARY KEY (repo, sha)
);

CREATE INDEX github_changes_time ON github_changes (committed_at);

CREATE TABLE github_setup_states (
    nonce TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    slack_user TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
