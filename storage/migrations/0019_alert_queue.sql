-- Alert investigations as durable work: the alert as read (JSON) is kept with its row, written before sitrep
-- answers the webhook (or as the Slack message arrives), so any replica investigates a row whose investigator is
-- gone, most severe first. post_id and reply_id are the slack_outbox rows of sitrep's post of the alert (webhook
-- mode) and of its investigation; edits name them. start_seen is 1 when starts_at is when sitrep first saw the
-- alert (a Slack message carries no start time). investigator is the process (host:pid:nonce) that took it: a
-- process of the same host that is gone (a restart after a crash) gives its work back at once.
ALTER TABLE alert_investigations ADD COLUMN alert TEXT NOT NULL DEFAULT '';
ALTER TABLE alert_investigations ADD COLUMN severity INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alert_investigations ADD COLUMN start_seen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alert_investigations ADD COLUMN post_id INTEGER;
ALTER TABLE alert_investigations ADD COLUMN reply_id INTEGER;
ALTER TABLE alert_investigations ADD COLUMN investigator TEXT;

CREATE INDEX alert_investigations_waiting ON alert_investigations (reply_id, severity);
