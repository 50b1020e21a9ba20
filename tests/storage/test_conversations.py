"""storage/conversations.py: answers, thread turns (bounded, oldest first), feedback, usage."""

from __future__ import annotations

import pytest

from storage.conversations import AnswerRecord, ConversationStore, Turn, Usage
from tests.support.environment import STORE_BACKENDS


@pytest.fixture(params=STORE_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Every test here runs on SQLite and on PostgreSQL, directly and through PgBouncer."""
    return str(request.param)


async def test_turns_are_kept_per_thread_and_bounded(services) -> None:
    store = ConversationStore(services.storage.db)
    team = await services.team_for(None)
    for i in range(8):
        rec = AnswerRecord(team.id, "mention", f"q{i}", f"a{i}" * (i + 1), "rules", channel="C1", thread_ts="1.0")
        await store.record(rec)
    await store.record(AnswerRecord(team.id, "mention", "other", "x", "rules", channel="C1", thread_ts="2.0"))
    await store.record(AnswerRecord(team.id, "shell", "no thread", "x", "rules"))
    turns = await store.recent_turns(team.id, "C1", "1.0", max_turns=4)
    assert turns == [Turn("user", "q6"), Turn("assistant", "a6" * 7), Turn("user", "q7"), Turn("assistant", "a7" * 8)]
    by_chars = await store.recent_turns(team.id, "C1", "1.0", max_turns=10, max_chars=20)
    assert by_chars == [Turn("user", "q7"), Turn("assistant", "a7" * 8)]
    assert await store.recent_turns(team.id, "C1", "9.9") == []
    count = await services.storage.db.fetchone("SELECT COUNT(*) AS n FROM thread_turns")
    assert count["n"] == 18  # the answer without a thread is not remembered


async def test_feedback_one_vote_per_user_last_click_wins(services) -> None:
    store = ConversationStore(services.storage.db)
    team = await services.team_for(None)
    answer_id = await store.record(AnswerRecord(team.id, "mention", "q", "a", "rules"))
    assert await store.record_feedback(answer_id, "U1", "up")
    assert await store.record_feedback(answer_id, "U2", "up")
    assert await store.record_feedback(answer_id, "U1", "down")
    assert await store.feedback(answer_id) == {"up": 1, "down": 1}
    assert not await store.record_feedback(answer_id + 1, "U1", "up")
    with pytest.raises(ValueError):
        await store.record_feedback(answer_id, "U1", "meh")
    (row,) = await store.usage(24)
    assert (row.votes_up, row.votes_down) == (1, 1)


async def test_message_ts_is_stored(services) -> None:
    store = ConversationStore(services.storage.db)
    team = await services.team_for(None)
    answer_id = await store.record(AnswerRecord(team.id, "mention", "q", "a", "rules"))
    await store.set_message_ts(answer_id, "1700000000.000300")
    assert (await store.answer(answer_id))["message_ts"] == "1700000000.000300"


async def test_spend_sums_claude_tokens_by_source_and_model_since_a_time(services) -> None:
    store = ConversationStore(services.storage.db)
    team = await services.team_for(None)
    usage = Usage("claude-sonnet-5-5", tokens_in=1000, tokens_out=50, cache_write_tokens=300, cache_read_tokens=600)
    await store.record(AnswerRecord(team.id, "mention", "q", "a", "claude", usage), remember=False)
    await store.record(AnswerRecord(team.id, "mention", "q", "a", "claude", usage), remember=False)
    await store.record(AnswerRecord(team.id, "alert", "(alert X)", "a", "claude", usage), remember=False)
    await store.record(AnswerRecord(team.id, "dm", "q", "a", "rules"), remember=False)
    old = await store.record(AnswerRecord(team.id, "review", "(review)", "a", "claude", usage), remember=False)
    async with services.storage.db.transaction() as conn:
        await conn.execute("UPDATE answers SET created_at = '2020-01-01T00:00:00.000Z' WHERE id = ?", (old,))
    rows = {(r.source, r.model): r for r in await store.spend(team.id, "2021-01-01T00:00:00.000Z")}
    assert set(rows) == {("alert", "claude-sonnet-5-5"), ("mention", "claude-sonnet-5-5")}
    mention = rows[("mention", "claude-sonnet-5-5")]
    assert (mention.answers, mention.input, mention.cache_write, mention.cache_read, mention.output) == (
        2,
        200,
        600,
        1200,
        100,
    )
    assert mention.tokens == 2 * 1050
