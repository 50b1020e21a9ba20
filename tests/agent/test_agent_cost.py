"""Cost in view and bounded: each Claude call's tokens by kind and estimated cost, the week on the Home tab, and a
daily token budget per team past which the built-in planner answers and says why."""

from __future__ import annotations

import json
from pathlib import Path

import metrics
from agent import respond, summarize
from agent.pricing import PriceTable, Tokens
from agent.question import Question
from agent.usage import spend
from bot.blocks.home_usage import usage_blocks, usage_line
from tests.fakes.anthropic import text
from tests.support.agent_world import MODEL, world


def test_the_price_table_knows_each_platforms_spelling_and_takes_overrides() -> None:
    table = PriceTable({"qwen3-coder:30b": {"input": 0, "output": 0}, "claude-opus-5-5": {"input": 3, "output": 15}})
    million = Tokens(input=1_000_000, cache_write=1_000_000, cache_read=1_000_000, output=1_000_000)
    assert table.cost("claude-sonnet-5-5", million) == 2 + 2.5 + 0.2 + 10  # cache write 1.25×, read 0.1×
    for spelling in ("us.anthropic.claude-sonnet-5-5-v1:0", "claude-sonnet-5-5@20260901"):
        assert table.cost(spelling, million) == table.cost("claude-sonnet-5-5", million)
    assert table.cost("claude-opus-5-5", Tokens(input=1_000_000)) == 3  # the configured row wins
    assert table.cost("qwen3-coder:30b", million) == 0 and table.cost("mystery-model", million) is None


async def test_past_the_daily_budget_the_built_in_planner_answers_and_says_why(tmp_path: Path) -> None:
    async with world(tmp_path, serve_slack=False) as w:
        team = await w.services.storage.config.patch("default", {"agents": {"daily_token_budget": 2_000}}, "UADMIN")
        w.model.script(text("Quiet."))
        first = await respond(w.services, Question("anything?", team, "shell"))
        assert first.planner == "claude" and first.usage.tokens > 2_000
        refused = metrics.value("sitrep_model_budget_refusals_total", {"feature": "answers"})
        second = await respond(w.services, Question("and now?", team, "shell"))
        assert second.planner == "rules" and len(w.model.requests) == 1  # Claude was not asked
        assert second.text.startswith(":warning: Claude was not asked: today's Claude budget for this team is spent")
        assert "of 2,000 tokens" in second.text and "built-in planner (Claude unavailable)" in second.footer
        assert metrics.value("sitrep_model_budget_refusals_total", {"feature": "answers"}) == refused + 1
        assert await summarize(w.services, team, "Errors: 0.") is None  # summaries keep to it too
        assert len(w.model.requests) == 1


async def test_the_home_tab_shows_the_week_and_todays_tokens(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await w.services.storage.config.patch("default", {"agents": {"daily_token_budget": 1_000_000}}, "UADMIN")
        team = await w.services.team_for(None)
        w.model.script(text("Quiet."), text("Healthy."))
        await respond(w.services, Question("anything?", team, "shell"))
        await summarize(w.services, team, "Errors: 0.")
        week = await spend(w.services, team)
        assert (week.calls("answers"), week.calls("summaries"), week.unpriced) == (1, 1, set())
        used = sum(r.usage[k] for r in w.model.answered for k in r.usage if k.endswith("tokens"))
        assert week.today_tokens == used and 0 < week.cost < 1
        assert usage_line(week) == f"this week: 1 answer, 1 report summary, ~${week.cost:,.2f}"
        mark = len(w.slack.calls)
        await w.slack.send_event({"type": "app_home_opened", "user": "UADMIN", "tab": "home"})
        home = await w.slack.wait_for_call("views.publish", since=mark)
        shown = json.dumps(home.args["view"], ensure_ascii=False)
        assert f"*Claude*, this week: 1 answer, 1 report summary, ~${week.cost:,.2f}" in shown
        assert f"today {used:,} of 1,000,000 tokens" in shown


def test_an_unpriced_model_is_named_and_left_out_of_the_estimate() -> None:
    from agent.usage import FeatureSpend
    from agent.usage import Spend as Week

    week = Week(7, {"answers": FeatureSpend(3, 9_000, 0.0)}, {"qwen3-coder:30b"}, today_tokens=4_000)
    blocks = [b.to_dict() for b in usage_blocks(week, ready=True)]
    assert "this week: 3 answers, ~$0.00" in blocks[0]["text"]["text"]
    note = blocks[1]["elements"][0]["text"]
    assert "no price for qwen3-coder:30b" in note and "no daily budget" in note
    assert MODEL not in note
