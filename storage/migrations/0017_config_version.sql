-- A team's config version: bumped in the same transaction as every change of its config document or of its
-- report jobs (storage/config_changes.py, storage/jobs.py). Every running scheduler re-reads it every few
-- seconds and resyncs when it moves, so a change made through any replica, or `app.py config patch`, is followed
-- everywhere; a periodic read works through a transaction pooler, where LISTEN/NOTIFY does not.
ALTER TABLE teams ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
