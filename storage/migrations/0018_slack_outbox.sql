-- Every Slack post and edit waiting to be sent: written before sitrep answers for the work that made it, so a
-- restart or another replica sends it (storage/outbox.py). A sender claims rows (claimed_by, claimed_at) as a lease;
-- a reply waits for its parent (parent_id) to be posted; an edit (method chat.update) names the post it changes
-- (parent_id) or a message's ts (target_ts). Top-level rows of one group_key pending together go out as one
-- message: the others are merged_into the one sent, each keeping its line. not_before, claimed_at and the pace are
-- epoch seconds; created_at and sent_at UTC ISO text.
CREATE TABLE slack_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT UNIQUE,
    method TEXT NOT NULL,
    channel TEXT NOT NULL,
    payload TEXT NOT NULL,
    parent_id INTEGER,
    target_ts TEXT NOT NULL DEFAULT '',
    group_key TEXT NOT NULL DEFAULT '',
    line TEXT NOT NULL DEFAULT '',
    priority INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'pending',
    ts TEXT NOT NULL DEFAULT '',
    merged_into INTEGER,
    error TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    rate_limited INTEGER NOT NULL DEFAULT 0,
    not_before REAL NOT NULL DEFAULT 0,
    claimed_by TEXT,
    claimed_at REAL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    sent_at TEXT
);

CREATE INDEX slack_outbox_pending ON slack_outbox (status, priority, id);
CREATE INDEX slack_outbox_parent ON slack_outbox (parent_id);
CREATE INDEX slack_outbox_merged ON slack_outbox (merged_into);

-- Each pace scope's theoretical arrival time (GCRA, bot/pacing.py): a channel's posts, the chat.update method,
-- one message's edits. Shared by replicas, so they pace a channel together.
CREATE TABLE slack_pace (
    scope TEXT PRIMARY KEY,
    tat REAL NOT NULL
);
