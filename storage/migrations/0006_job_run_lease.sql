-- A running report holds a lease on its slot: the process that claimed it (owner: host:pid:nonce) and when it
-- last said it was still at it (heartbeat_at). A run whose owner died (its pid is gone on this host, or its
-- heartbeat is older than the lease) is taken over by another sitrep, so a killed process's slot still posts.
ALTER TABLE job_runs ADD COLUMN owner TEXT;
ALTER TABLE job_runs ADD COLUMN heartbeat_at TEXT;
