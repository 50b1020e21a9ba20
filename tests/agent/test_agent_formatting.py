"""Pure pieces of the agent: mrkdwn conversion, sections, sources, history as messages, the stopped-loop answer."""

from __future__ import annotations

from agent import claude_text
from agent.formatting import Section, link, num, pct, render, sources_line, to_mrkdwn
from agent.history import as_messages
from agent.loop import LoopResult
from agent.toolbox import ToolCall, ToolOutcome
from storage.conversations import Turn

URL = "https://grafana.example/explore?x=1"


def outcome(name: str, data: dict | None = None, error: str | None = None, **args: object) -> ToolOutcome:
    content = f"Summary: total={(data or {}).get('total')}" if data else f"Error: {error}"
    return ToolOutcome(ToolCall(name, dict(args)), error is None, data=data, error=error, content=content)


def test_markdown_becomes_slack_mrkdwn() -> None:
    md = "## Conclusion\n**5%** errors, see [Explore](https://g.example/x?a=1).\n- one\n* two"
    assert to_mrkdwn(md) == "*Conclusion*\n*5%* errors, see <https://g.example/x?a=1|Explore>.\n• one\n• two"
    assert to_mrkdwn("<https://a.b|ok> *bold*") == "<https://a.b|ok> *bold*"


def test_numbers_and_links() -> None:
    assert (num(1234), num(0.12345), num(12.5), num(1500.4)) == ("1,234", "0.123", "12.5", "1,500")
    assert (pct(15, 125), pct(0, 10), pct(1, 0)) == ("12.0%", "0.0%", "n/a")
    assert link(URL, "a|b <c>") == f"<{URL}|a¦b &lt;c&gt;>" and link(None, "x") == "x"


def test_render_leads_with_the_conclusion_then_evidence_then_failures() -> None:
    ok = Section("Error rate", "Error rate is *2%*.", ["• 2 of 100"])
    bad = Section("Agents", failures=["Amplitude: not configured. set AMPLITUDE_API_KEY"])
    text = render([ok, bad, Section("Dup", failures=["Amplitude: not configured. set AMPLITUDE_API_KEY"])])
    assert text.splitlines()[0] == "Error rate is *2%*."
    assert "*Error rate*\n• 2 of 100" in text
    assert text.endswith("*Could not check*\n• Amplitude: not configured. set AMPLITUDE_API_KEY")


def test_sources_list_uncited_links_once() -> None:
    first = outcome("grafana_query_loki", {"total": 3, "explore_url": URL}, query='{a="b"}')
    amp = outcome(
        "amplitude_query_events", {"total": 9, "link": "https://app.amplitude.com/analytics/"}, event_type="X"
    )
    line = sources_line([first, first, amp, outcome("grafana_get_alerts", error="Grafana: down")], already="")
    assert line == (f'Sources: <{URL}|Grafana: {{a="b"}}>, <https://app.amplitude.com/analytics/|Amplitude: X>')
    assert sources_line([first], already=f"see <{URL}|here>") == ""


def test_a_loop_stopped_by_the_cap_reports_what_the_tools_found() -> None:
    result = LoopResult(
        text="",
        model="m",
        stop_reason="max_turns",
        turns=8,
        outcomes=[
            outcome("grafana_query_loki", {"total": 3, "explore_url": URL}, query='{a="b"}'),
            outcome("grafana_get_alerts", error="Grafana: the token was rejected (401)"),
        ],
    )
    text = claude_text(result)
    assert text.startswith("I stopped after 8 model turns without a conclusion. What the tools returned:")
    assert f'<{URL}|Grafana: {{a="b"}}>: total=3' in text
    assert "• grafana_get_alerts: Grafana: the token was rejected (401)" in text


def test_history_becomes_alternating_redacted_messages() -> None:
    turns = [Turn("assistant", "orphan"), Turn("user", "q1 sk-secret-123"), Turn("assistant", "a1"), Turn("user", "q2")]
    messages = as_messages(turns, "q3", lambda t: t.replace("sk-secret-123", "[redacted]"))
    assert messages == [
        {"role": "user", "content": "q1 [redacted]"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2\n\nq3"},
    ]
