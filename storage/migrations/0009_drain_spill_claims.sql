-- Replicas share the drain spill table: a batch is pushed by the replica that claimed it (claimed_by, the
-- replica's id; claimed_at, when), so two replicas draining the table at once never push one batch twice. A
-- claim older than the lease (a replica that died mid-push) may be taken by another replica.
ALTER TABLE drain_spill ADD COLUMN claimed_by TEXT;
ALTER TABLE drain_spill ADD COLUMN claimed_at TEXT;
