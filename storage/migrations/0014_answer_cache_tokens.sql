-- Claude's prompt cache, counted per answer: the input tokens written to the cache and read from it (both are
-- part of tokens_in, which stays the total input), so a day's cost can be estimated by kind. Alert
-- investigations (source alert) and pull-request reviews (source review) are recorded here too, like report
-- summaries, so one table answers "what did Claude cost, per feature and per day". The index serves the per-team
-- daily sums (the token budget, the Home tab).
ALTER TABLE answers ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE answers ADD COLUMN cache_read_tokens INTEGER NOT NULL DEFAULT 0;
CREATE INDEX answers_team_created ON answers (team_id, created_at);
