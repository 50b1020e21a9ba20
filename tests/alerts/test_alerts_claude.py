"""With ANTHROPIC_API_KEY: Claude gets the rule-based findings first, may call a tool, and its answer replaces the
rule-based reply in place; a model error leaves the rule-based reply. Against the fake Anthropic Messages API
(tests/fakes/anthropic.py) and the fake Grafana, GitHub and Slack of tests/alerts/test_alerts_desk.py."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.alerts.test_alerts_desk import CHANNEL, _notification, desk_world
from tests.fakes.anthropic import API_KEY, FakeAnthropic, careless, text, tool_calls
from tests.support.agent_world import HOSTILE_LINE

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
        # the context comes first, as data: the rule-based findings as JSON, links and the nearest change included
        wrapped = first.said(0)
        assert wrapped.startswith('<data source="alert">\n') and wrapped.endswith("\n</data>")
        context = json.loads(wrapped.removeprefix('<data source="alert">').removesuffix("</data>"))
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


async def test_a_careless_model_repeating_a_hostile_alert_pings_no_one_and_disguises_no_link(
    tmp_path: Path, model: FakeAnthropic
) -> None:
    model.script(careless)
    async with desk_world(tmp_path, **keyed(model)) as (w, slack, desk, starts):
        w.grafana.add_logs({"source": "lambda"}, [HOSTILE_LINE], gap_s=5)
        hostile = _notification(starts, annotations={"summary": HOSTILE_LINE})
        await desk.handle(await w.team(), hostile, channel=CHANNEL)
        await desk.settle()
        (asked,) = model.answered
        assert "<!channel>" in asked.said(0) and asked.said(0).startswith("<data ")
        posted = [c.args["text"] for c in slack.calls_to("chat.postMessage") + slack.calls_to("chat.update")]
        final = slack.calls_to("chat.update")[-1].args["text"]
        assert "What the data says:" in final and "&lt;!channel&gt;" in final
        assert "<https://evil.example/login>" in final  # the plain URL
        for text_posted in posted:
            for live in ("<!channel>", "<!here>", "<!everyone>", "<!subteam^", "<@UADMIN>", "|Grafana Explore>"):
                assert live not in text_posted, (live, text_posted)
