"""With ANTHROPIC_API_KEY: Claude gets the rule-based findings first, may call a tool, and its answer replaces the
rule-based reply in place; a model error leaves the rule-based reply. Against the fake Anthropic Messages API
(tests/fakes/anthropic.py) and the fake Grafana, GitHub and Slack of tests/alerts/test_alerts_desk.py."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.alerts.test_alerts_desk import CHANNEL, _notification, desk_world
from tests.fakes.anthropic import API_KEY, FakeAnthropic, text, tool_calls

SELECTOR = '{source="lambda"}'


@pytest.fixture
async def model() -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic() as fake:
        yield fake


def keyed(model: FakeAnthropic) -> dict[str, str]:
    return {"ANTHROPIC_API_KEY": API_KEY, "ANTHROPIC_BASE_URL": model.url, "SITREP_MODEL": "claude-sonnet-5-5"}


async def test_claude_reads_the_findings_calls_a_tool_and_its_answer_is_posted(
    tmp_path: Path, model: FakeAnthropic
) -> None:
    answer = "*High error rate*: agent timeouts since ccccccc (Lower the agent timeout), 14 min before it fired."
    model.script(
        tool_calls(("grafana_loki_error_patterns", {"query": SELECTOR, "since": "1h"}), say="Checking the errors."),
        text(answer),
    )
    async with desk_world(tmp_path, **keyed(model)) as (w, slack, desk, starts):
        await desk.handle(await w.team(), _notification(starts), channel=CHANNEL)
        await desk.settle()
        first, second = model.answered
        # the context comes first: the rule-based findings as JSON, links and the nearest change included
        context = json.loads(first.said(0))
        assert context["alert"]["name"] == "High error rate"
        assert "/explore?" in context["rule_explore_url"]
        assert (
            context["nearest_change"]["ref"].startswith("cccccc") and context["nearest_change"]["minutes_before"] == 14
        )
        assert context["loki"]["selector"] == SELECTOR
        assert "grafana_loki_error_patterns" in first.tool_names
        [result] = second.tool_results()
        assert result.get("is_error") is not True and "TimeoutError" in json.dumps(result["content"])
        # the rule-based reply went out first; Claude's text replaced it in place
        reply = slack.calls_to("chat.postMessage")[-1]
        assert "landed 14 min before" in reply.args["text"]
        final = slack.calls_to("chat.update")[-1]
        [posted] = [m for m in slack.messages[CHANNEL] if m.get("thread_ts") and m["ts"] != m["thread_ts"]]
        assert final.args["ts"] == posted["ts"] and posted["text"] == final.args["text"]
        assert final.args["text"].startswith(answer)
        assert API_KEY not in final.args["text"]


async def test_a_model_error_leaves_the_rule_based_reply(tmp_path: Path, model: FakeAnthropic) -> None:
    for _ in range(3):  # the first try and the SDK's two retries
        model.fail_next(529, "overloaded_error", "Overloaded")
    async with desk_world(tmp_path, **keyed(model)) as (w, slack, desk, starts):
        await desk.handle(await w.team(), _notification(starts), channel=CHANNEL)
        await desk.settle()
        assert model.requests and not model.answered
        texts = [c.args["text"] for c in slack.calls_to("chat.postMessage")[1:] + slack.calls_to("chat.update")]
        assert texts and all("landed 14 min before" in t and "/explore?" in t for t in texts)
        assert "Overloaded" not in texts[-1]
