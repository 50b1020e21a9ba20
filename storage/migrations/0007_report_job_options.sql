-- What each scheduled report covers: the sections it includes (a JSON array of section keys) and the length
-- of its window in hours (compared with the window before it). The seeded Morning and Evening reports keep
-- both sections over 12 hours; a weekly digest is 168 hours.
ALTER TABLE scheduled_jobs ADD COLUMN sections TEXT NOT NULL DEFAULT '["grafana","amplitude"]';
ALTER TABLE scheduled_jobs ADD COLUMN window_hours REAL NOT NULL DEFAULT 12;
