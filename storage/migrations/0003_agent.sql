-- The agent: every answer it gave (planner, model, tokens in/out, tool calls), the feedback on it,
-- and the threads it answered in, with their turns, so a follow-up in a thread sees the earlier ones.
-- Text is stored after redaction: no credential reaches these tables.
CREATE TABLE answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    user_id TEXT,
    channel TEXT,
    thread_ts TEXT,
    message_ts TEXT,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    planner TEXT NOT NULL CHECK (planner IN ('claude', 'rules')),
    model TEXT,
    tokens_in INTEGER NOT NULL DEFAULT 0,
    tokens_out INTEGER NOT NULL DEFAULT 0,
    model_turns INTEGER NOT NULL DEFAULT 0,
    tool_calls INTEGER NOT NULL DEFAULT 0,
    tool_errors INTEGER NOT NULL DEFAULT 0,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);

CREATE INDEX answers_created ON answers (created_at);

CREATE TABLE answer_feedback (
    answer_id INTEGER NOT NULL REFERENCES answers (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    vote TEXT NOT NULL CHECK (vote IN ('up', 'down')),
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    PRIMARY KEY (answer_id, user_id)
);

CREATE TABLE threads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    thread_ts TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    UNIQUE (team_id, channel, thread_ts)
);

CREATE TABLE thread_turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    thread_id INTEGER NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    answer_id INTEGER REFERENCES answers (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);

CREATE INDEX thread_turns_thread ON thread_turns (thread_id, id);
