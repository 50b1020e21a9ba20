"""Room to think: each use of Claude asks with its own effort and a max_tokens that holds thinking plus text; a
reply that still stops at max_tokens is continued, never posted cut; signed thinking blocks go back unchanged;
no sampling parameter is ever sent. Against the fake Messages API, whose model thinks before it writes."""

from __future__ import annotations

from pathlib import Path

from agent import respond
from agent.model_client import ALERTS, ANSWERS, REVIEWS, SUMMARIES
from agent.question import Question
from tests.fakes.anthropic import text, tool_calls
from tests.support.agent_world import mention, text_of, world

LONG = "The error rate is 12.0% over the last hour; " * 60  # ~660 tokens of answer


async def test_a_long_answer_after_thinking_is_posted_whole(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.model.thinking_tokens = 1500
        w.model.script(text(LONG.strip()))
        _, post = await mention(w, "how are errors?")
        body = text_of(post.args)
        assert "cut at the length limit" not in body
        assert LONG.strip()[-60:] in body.replace("\n", " ")


async def test_a_reply_that_runs_out_in_its_text_is_continued(tmp_path: Path) -> None:
    async with world(tmp_path, serve_slack=False) as w:
        team = await w.services.team_for(None)
        w.model.script(text(LONG.strip(), thinking_tokens=ANSWERS.max_tokens - 200))
        reply = await respond(w.services, Question("how are errors?", team, "shell"))
        cut, rest = w.model.answered
        assert cut.reply["stop_reason"] == "max_tokens" and rest.reply["stop_reason"] == "end_turn"
        handed_back = rest.messages[-2]
        assert handed_back["role"] == "assistant" and handed_back["content"][0] == cut.reply["content"][0]
        assert handed_back["content"][1]["text"] == cut.reply["content"][1]["text"]  # as it came, thinking signed
        assert rest.messages[-1]["role"] == "user"  # asked to go on: never a prefill
        assert " ".join(LONG.split()) in " ".join(reply.text.split())
        assert "cut at the length limit" not in reply.text and reply.planner == "claude"


async def test_a_reply_that_runs_out_while_thinking_is_asked_again_with_more_room(tmp_path: Path) -> None:
    async with world(tmp_path, serve_slack=False) as w:
        team = await w.services.team_for(None)
        w.model.script(text("Nothing is firing.", thinking_tokens=ANSWERS.max_tokens + 100))
        reply = await respond(w.services, Question("anything firing?", team, "shell"))
        starved, again = w.model.answered
        assert [b["type"] for b in starved.reply["content"]] == ["thinking"]
        assert again.body["max_tokens"] > starved.body["max_tokens"]
        assert again.messages == starved.messages  # the same request, with more room
        assert reply.text.startswith("Nothing is firing.")


async def test_a_reply_that_never_fits_says_so_instead_of_posting_a_cut_answer(tmp_path: Path) -> None:
    async with world(tmp_path, serve_slack=False) as w:
        team = await w.services.team_for(None)
        w.model.default = text("Never written.", thinking_tokens=10**7)
        reply = await respond(w.services, Question("anything firing?", team, "shell"))
        sizes = [int(r.body["max_tokens"]) for r in w.model.answered]
        assert 2 <= len(sizes) <= 3 and sizes == sorted(set(sizes))  # a bounded number of bigger asks
        assert "Never written" not in reply.text and "length limit" in reply.text


async def test_signed_thinking_goes_back_unchanged_and_no_sampling_parameter_is_sent(tmp_path: Path) -> None:
    async with world(tmp_path, serve_slack=False) as w:
        team = await w.services.team_for(None)
        w.model.thinking_tokens = 400
        w.model.script(tool_calls(("grafana_get_alerts", {})), text("1 alert is firing."))
        reply = await respond(w.services, Question("any alerts?", team, "shell"))
        assert reply.text.startswith("1 alert is firing.")
        first, second = w.model.answered
        thinking = first.reply["content"][0]
        assert thinking["type"] == "thinking" and thinking["signature"]
        assert second.messages[-2]["content"][0] == thinking
        for request in w.model.requests:
            assert not {"temperature", "top_p", "top_k"} & set(request.body)


async def test_each_use_asks_with_its_own_effort_and_room(tmp_path: Path) -> None:
    async with world(tmp_path, serve_slack=False) as w:
        team = await w.services.team_for(None)
        w.model.script(text("Quiet."))
        await respond(w.services, Question("anything?", team, "shell"))
        (asked,) = w.model.answered
        assert asked.body["thinking"] == {"type": "adaptive"}
        assert asked.body["output_config"] == {"effort": ANSWERS.effort}
        assert asked.body["max_tokens"] == ANSWERS.max_tokens
    # summaries and alerts think little and write little; reviews think hard and write more
    assert SUMMARIES.max_tokens < ALERTS.max_tokens < ANSWERS.max_tokens < REVIEWS.max_tokens
    assert (SUMMARIES.effort, ALERTS.effort, ANSWERS.effort, REVIEWS.effort) == ("low", "low", "medium", "high")
    for use in (SUMMARIES, ALERTS, ANSWERS, REVIEWS):
        assert use.max_tokens >= 4 * 1000  # room for thinking at its effort plus a full answer
