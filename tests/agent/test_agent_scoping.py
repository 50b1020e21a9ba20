"""The Claude path gets the rule planner's scoping: the parsed window and the names in its system prompt, and the
resolve_subject / find_metrics tools, whose results it can act on."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from agent.rules.scope import question_hints
from tests.fakes.anthropic import text, tool_calls
from tests.support.agent_world import mention, text_of, world

LA = ZoneInfo("America/Los_Angeles")


def test_hints_read_the_question_like_the_rule_planner() -> None:
    now = datetime(2026, 11, 30, 10, 30, tzinfo=LA)
    hints = question_hints("503 errors in the api-server service since last Thursday", now)
    assert hints["question_window"] == {"label": "since Thu 26 Nov 00:00 PST", "args": {"since": "107h"}}
    assert hints["question_names"] == ["api-server"] and hints["question_filters"] == ["|~ `\\b503\\b`"]
    assert question_hints("errors since the outage", now)["question_unreadable_time"] == "since the outage"
    assert question_hints("what's the error rate?", now)["question_window"] is None
    assert question_hints("my AWS Lambda has high latency", now)["question_external"] == "AWS Lambda"


async def test_claude_gets_the_window_names_and_scoping_tools(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.model.script(
            tool_calls(
                ("grafana_resolve_subject", {"name": "edge", "since": "24h"}),
                ("grafana_find_metrics", {"keyword": "latency"}),
            ),
            text("edge (label source), on 2 Aug 13:15–14:15 UTC: no errors."),
        )
        _, post = await mention(w, "errors of the edge source on 2 August around 13:45 UTC?")
        first, second = w.model.answered
        assert {"grafana_resolve_subject", "grafana_find_metrics"} <= set(first.tool_names)
        system = first.system
        assert 'start="2026-08-02T13:15:00Z", end="2026-08-02T14:15:00Z"' in system
        assert "Names to scope with: edge" in system and "grafana_resolve_subject" in system
        resolved, metrics = second.tool_results()
        assert '"selector":"{source=\\"edge\\"}"' in resolved["content"]
        assert "http_request_duration_seconds" in metrics["content"]
        assert text_of(post.args).startswith("edge (label source)")
