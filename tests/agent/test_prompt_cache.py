"""Prompt caching: every request is ordered stable-first (tools, the fixed system prompt with a breakpoint, then
what changes, then the conversation), so questions share the tools and the fixed prompt, and each turn of a tool
loop reads the turns before it. Against the fake Messages API's cache accounting (exact prefixes, per model)."""

from __future__ import annotations

import itertools
from pathlib import Path

from agent import respond
from agent.question import Question
from tests.fakes.anthropic import text, tool_calls
from tests.fakes.anthropic_cache import tokens_of
from tests.support.agent_world import world


async def test_the_fixed_prompt_is_cached_and_what_changes_comes_after_it(tmp_path: Path) -> None:
    async with world(tmp_path, serve_slack=False) as w:
        team = await w.services.team_for(None)
        w.model.script(text("Quiet."), text("Still quiet."))
        await respond(w.services, Question("anything since 9am?", team, "shell"))
        await respond(w.services, Question("what about edge?", team, "shell"))
        first, second = w.model.answered
        fixed, context = first.body["system"]
        assert fixed["cache_control"] == {"type": "ephemeral"} and "cache_control" not in context
        assert "Now:" not in fixed["text"] and "Now:" in context["text"]  # the time is in the part that changes
        assert second.body["system"][0] == fixed and second.body["tools"] == first.body["tools"]
        plain_fixed = {k: v for k, v in fixed.items() if k != "cache_control"}
        tools_and_fixed = sum(tokens_of(t) for t in first.body["tools"]) + tokens_of(plain_fixed)
        assert first.usage["cache_read_input_tokens"] == 0
        assert second.usage["cache_read_input_tokens"] == tools_and_fixed > 1024
        # the second question pays full price only for what changed: its context and question
        assert second.usage["cache_creation_input_tokens"] + second.usage["input_tokens"] < tools_and_fixed / 4


async def test_each_turn_of_a_tool_loop_reads_the_turns_before_it(tmp_path: Path) -> None:
    async with world(tmp_path, serve_slack=False) as w:
        team = await w.services.team_for(None)
        w.model.thinking_tokens = 300
        loki = ("grafana_query_loki", {"query": '{source="lambda"}', "since": "1h"})
        w.model.script(
            tool_calls(("grafana_get_alerts", {}), loki),
            tool_calls(("grafana_loki_error_patterns", {"query": '{source="lambda"}', "since": "1h"})),
            text("Timeouts on lambda."),
        )
        reply = await respond(w.services, Question("why are requests timing out?", team, "shell"))
        assert reply.planner == "claude" and reply.text.startswith("Timeouts on lambda.")
        calls = w.model.answered
        assert len(calls) == 3
        for before, after in itertools.pairwise(calls):
            total_before = sum(before.usage[k] for k in ("input_tokens", "cache_creation_input_tokens"))
            total_before += before.usage["cache_read_input_tokens"]
            assert after.usage["cache_read_input_tokens"] == total_before  # the whole previous request, read
        marks = [
            b
            for m in calls[-1].messages
            if isinstance(m["content"], list)
            for b in m["content"]
            if "cache_control" in b
        ]
        assert len(marks) == 2  # the last two user turns; with the fixed prompt's, 3 of the 4 allowed
        # recorded with the answer: tokens in are every kind of input, the cache's share kept apart
        row = await w.services.storage.db.fetchone(
            "SELECT tokens_in, cache_write_tokens, cache_read_tokens FROM answers WHERE source = 'shell'"
        )
        ins = sum(c.usage[k] for c in calls for k in ("input_tokens", "cache_creation_input_tokens"))
        ins += sum(c.usage["cache_read_input_tokens"] for c in calls)
        assert row["tokens_in"] == ins
        assert row["cache_read_tokens"] == sum(c.usage["cache_read_input_tokens"] for c in calls) > 0
        assert row["cache_write_tokens"] == sum(c.usage["cache_creation_input_tokens"] for c in calls) > 0


async def test_a_server_that_is_not_claude_gets_plain_requests(tmp_path: Path) -> None:
    env = {"SITREP_MODEL": "qwen3-coder:30b"}
    async with world(tmp_path, serve_slack=False, env=env) as w:
        w.model.compatible = True
        team = await w.services.team_for(None)
        w.model.script(text("Quiet."))
        reply = await respond(w.services, Question("anything?", team, "shell"))
        (asked,) = w.model.answered
        assert reply.planner == "claude" and reply.usage.model == "qwen3-coder:30b"
        assert isinstance(asked.body["system"], str) and "cache_control" not in asked.text()
        assert "thinking" not in asked.body and "output_config" not in asked.body
