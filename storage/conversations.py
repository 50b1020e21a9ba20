"""What the agent said: answers (planner, model, tokens, feedback) and thread turns for follow-up questions.

`Usage` (model, tokens by kind, model turns, tool calls) is the same type the agent's reply carries. Every Claude
call sitrep makes is recorded here with its source (mention, dm, command, shortcut, shell; summary and report;
alert; review), so `spend` sums tokens by source and model over any span, for the Home tab and the token budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from storage.db import Database

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"
VOTES = ("up", "down")


@dataclass
class Usage:
    """What an answer cost: the model that wrote it, its tokens in (all of them, cache writes and reads included)
    and out, model turns and tool calls."""

    model: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    model_turns: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    cache_write_tokens: int = 0  # of tokens_in: written to the prompt cache
    cache_read_tokens: int = 0  # of tokens_in: read from it

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out


@dataclass(frozen=True)
class AnswerRecord:
    """One answer as stored; text fields must already be redacted."""

    team_id: str
    source: str
    question: str
    answer: str
    planner: str  # claude | rules
    usage: Usage = field(default_factory=Usage)
    duration_ms: int = 0
    user_id: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Turn:
    role: str  # user | assistant
    content: str


@dataclass(frozen=True)
class SpendRow:
    """Claude's tokens by kind for one source and model over a span (input is the uncached rest)."""

    source: str
    model: str
    answers: int
    input: int
    cache_write: int
    cache_read: int
    output: int

    @property
    def tokens(self) -> int:
        return self.input + self.cache_write + self.cache_read + self.output


@dataclass(frozen=True)
class UsageRow:
    planner: str
    model: str | None
    answers: int
    tokens_in: int
    tokens_out: int
    votes_up: int
    votes_down: int


class ConversationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, rec: AnswerRecord, *, remember: bool = True) -> int:
        """Store an answer and, when it has a thread and `remember` is set, its question and answer as two turns."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO answers (team_id, source, user_id, channel, thread_ts, question, answer, planner, model,"
                " tokens_in, tokens_out, model_turns, tool_calls, tool_errors, duration_ms, error,"
                " cache_write_tokens, cache_read_tokens)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    rec.team_id,
                    rec.source,
                    rec.user_id,
                    rec.channel,
                    rec.thread_ts,
                    rec.question,
                    rec.answer,
                    rec.planner,
                    rec.usage.model,
                    rec.usage.tokens_in,
                    rec.usage.tokens_out,
                    rec.usage.model_turns,
                    rec.usage.tool_calls,
                    rec.usage.tool_errors,
                    rec.duration_ms,
                    rec.error,
                    rec.usage.cache_write_tokens,
                    rec.usage.cache_read_tokens,
                ),
            )
            answer_id = int(cur.lastrowid or 0)
            if remember and rec.channel and rec.thread_ts:
                await conn.execute(
                    "INSERT INTO threads (team_id, channel, thread_ts) VALUES (?, ?, ?)"
                    f" ON CONFLICT (team_id, channel, thread_ts) DO UPDATE SET updated_at = {_NOW}",
                    (rec.team_id, rec.channel, rec.thread_ts),
                )
                async with conn.execute(
                    "SELECT id FROM threads WHERE team_id = ? AND channel = ? AND thread_ts = ?",
                    (rec.team_id, rec.channel, rec.thread_ts),
                ) as c:
                    row = await c.fetchone()
                assert row is not None, "the thread row was inserted (or already there) just above"
                thread_id = row["id"]
                await conn.executemany(
                    "INSERT INTO thread_turns (thread_id, role, content, answer_id) VALUES (?, ?, ?, ?)",
                    [(thread_id, "user", rec.question, answer_id), (thread_id, "assistant", rec.answer, answer_id)],
                )
        return answer_id

    async def set_message_ts(self, answer_id: int, message_ts: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE answers SET message_ts = ? WHERE id = ?", (message_ts, answer_id))

    async def recent_turns(
        self, team_id: str, channel: str, thread_ts: str, *, max_turns: int = 10, max_chars: int = 12_000
    ) -> list[Turn]:
        """The thread's latest turns, oldest first, at most `max_turns` and `max_chars` characters in all."""
        rows = await self.db.fetchall(
            "SELECT t.role, t.content FROM thread_turns t JOIN threads h ON h.id = t.thread_id"
            " WHERE h.team_id = ? AND h.channel = ? AND h.thread_ts = ? ORDER BY t.id DESC LIMIT ?",
            (team_id, channel, thread_ts, max_turns),
        )
        kept: list[Turn] = []
        used = 0
        for row in rows:
            used += len(row["content"])
            if used > max_chars and kept:
                break
            kept.append(Turn(row["role"], row["content"][:max_chars]))
        return kept[::-1]

    async def record_feedback(self, answer_id: int, user_id: str, vote: str) -> bool:
        """A user's 👍/👎 on an answer (a second click replaces the first); False when the answer is unknown."""
        if vote not in VOTES:
            raise ValueError(f"vote must be up or down, not {vote!r}")
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)) as cur:
                if await cur.fetchone() is None:
                    return False
            await conn.execute(
                "INSERT INTO answer_feedback (answer_id, user_id, vote) VALUES (?, ?, ?)"
                f" ON CONFLICT (answer_id, user_id) DO UPDATE SET vote = excluded.vote, at = {_NOW}",
                (answer_id, user_id, vote),
            )
        return True

    async def feedback(self, answer_id: int) -> dict[str, int]:
        rows = await self.db.fetchall(
            "SELECT vote, COUNT(*) AS n FROM answer_feedback WHERE answer_id = ? GROUP BY vote", (answer_id,)
        )
        counts = dict.fromkeys(VOTES, 0)
        counts.update({r["vote"]: r["n"] for r in rows})
        return counts

    async def answer(self, answer_id: int) -> dict | None:
        row = await self.db.fetchone("SELECT * FROM answers WHERE id = ?", (answer_id,))
        return dict(row) if row else None

    async def usage(self, hours: int = 24) -> list[UsageRow]:
        """Answers, tokens and votes of the last `hours`, per planner and model."""
        rows = await self.db.fetchall(
            "SELECT a.planner, a.model, COUNT(*) AS answers, SUM(a.tokens_in) AS tin, SUM(a.tokens_out) AS tout,"
            " SUM((SELECT COUNT(*) FROM answer_feedback f WHERE f.answer_id = a.id AND f.vote = 'up')) AS up,"
            " SUM((SELECT COUNT(*) FROM answer_feedback f WHERE f.answer_id = a.id AND f.vote = 'down')) AS down"
            f" FROM answers a WHERE a.created_at >= strftime('%Y-%m-%dT%H:%M:%fZ','now','-{int(hours)} hours')"
            " GROUP BY a.planner, a.model ORDER BY a.planner, a.model",
        )
        return [
            UsageRow(
                r["planner"], r["model"], r["answers"], r["tin"] or 0, r["tout"] or 0, r["up"] or 0, r["down"] or 0
            )
            for r in rows
        ]

    async def spend(self, team_id: str, since: str) -> list[SpendRow]:
        """The team's Claude calls since `since` (UTC ISO 8601, as created_at is stored), by source and model."""
        rows = await self.db.fetchall(
            "SELECT source, model, COUNT(*) AS n, SUM(tokens_in) AS tin, SUM(tokens_out) AS tout,"
            " SUM(cache_write_tokens) AS cw, SUM(cache_read_tokens) AS cr FROM answers"
            " WHERE team_id = ? AND planner = 'claude' AND created_at >= ? GROUP BY source, model"
            " ORDER BY source, model",
            (team_id, since),
        )
        out = []
        for r in rows:
            written, read = r["cw"] or 0, r["cr"] or 0
            uncached = max(0, (r["tin"] or 0) - written - read)
            out.append(SpendRow(r["source"], r["model"] or "", r["n"], uncached, written, read, r["tout"] or 0))
        return out
