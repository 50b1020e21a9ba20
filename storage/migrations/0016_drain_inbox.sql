-- What the Vercel drain answered 200 for and Loki does not have yet: one row per accepted request (its body as
-- received, inflated then zlib-compressed; `lines` the lines it gave), written before the answer, deleted once every line of it is
-- pushed, counted as refused by Loki, or moved to drain_spill. `owner` is the relay holding the row's lines in
-- memory (host:pid:nonce) and `beat_at` when it last said it still does; a row whose owner is gone (its pid on
-- this host, or a heartbeat older than the lease) or released (owner NULL) is taken and pushed by another relay.
CREATE TABLE drain_inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    owner TEXT,
    beat_at TEXT,
    lines INTEGER NOT NULL,
    body BLOB NOT NULL
);

CREATE INDEX drain_inbox_owner ON drain_inbox (owner);
