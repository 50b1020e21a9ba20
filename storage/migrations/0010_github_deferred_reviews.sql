-- Reviews GitHub's rate limit deferred: one row per pull-request head (and forced_by) that could not be reviewed
-- because GitHub said to send nothing before `not_before` (a retry-after, an x-ratelimit-reset up to an hour
-- away, or a secondary limit's back-off). Whatever the intake (a webhook delivery acked long ago, or a poll),
-- the review runs again after that time (review/deferred.py), so a limit loses no work, even across restarts.
CREATE TABLE github_deferred_reviews (
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    head_sha TEXT NOT NULL DEFAULT '',
    forced_by TEXT NOT NULL DEFAULT '',
    installation_id INTEGER,
    source TEXT NOT NULL,
    not_before TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    deferrals INTEGER NOT NULL DEFAULT 1,
    deferred_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    PRIMARY KEY (team_id, repo, number, head_sha, forced_by)
);

CREATE INDEX github_deferred_reviews_due ON github_deferred_reviews (not_before);
