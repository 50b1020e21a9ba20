"""Rendering: Block Kit within Slack's limits, one line per failed section, escaping, redaction, plain text."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from agent.formatting import num as agent_num
from agent.rules.plays import duration
from bot.blocks.limits import violations
from reports.model import OK, Figure, Item, Listing, Report, Section, failed, no_data
from reports.render import (
    CUT,
    fallback_text,
    figure_value,
    report_blocks,
    report_text,
    section_mrkdwn,
    template_summary,
)

LA = "America/Los_Angeles"
EXPLORE = "https://mochacare.grafana.net/explore?schemaVersion=1&panes=%7B%22a%22%7D&orgId=1"


def grafana_ok(patterns: int = 2, label: str = "TimeoutError: upstream <*> timed out") -> Section:
    section = Section("grafana", "Grafana", window="last 12 h vs the 12 h before", link="https://g.example")
    section.figures = [
        Figure("5xx responses", 20, 3, sparkline="▁▂█", link=EXPLORE, link_label="Explore"),
        Figure("5xx rate", 3.48, 0.55, unit="%", link=EXPLORE, link_label="Explore", note="5xx / requests"),
        Figure("p95 latency", 0.375, 0.095, unit="s", link=EXPLORE, link_label="Explore"),
        Figure("Firing alerts", 1, link="https://g.example/alerting/list", link_label="Alerting"),
    ]
    items = [Item(f"{label} #{i}", 100 - i, code=True) for i in range(patterns)]
    section.listings = [Listing("Top error patterns", items, link=EXPLORE, link_label="Explore")]
    section.lines = ["p95 latency from http_request_duration_seconds_bucket"]
    return section


def report(*sections: Section, summary: str = "") -> Report:
    when = datetime(2026, 2, 17, 16, 0, tzinfo=UTC).astimezone(ZoneInfo(LA))
    built = Report("Morning report", when, LA, list(sections), job="Morning report", scheduled_for=when)
    built.summary = summary or template_summary(built.sections)
    return built


def test_a_full_report_is_within_limits_with_header_context_and_dividers() -> None:
    amplitude = failed("amplitude", "Amplitude", "rate limit hit: concurrent", "wait a few minutes")
    built = report(grafana_ok(), amplitude)
    blocks = report_blocks(built)
    assert violations(blocks) == []
    assert [b["type"] for b in blocks] == ["header", "context", "section", "divider", "section", "divider", "section"]
    assert blocks[0]["text"]["text"] == "sitrep · Morning report"
    assert "Tue 17 Feb 2026 08:00 PST" in blocks[1]["elements"][0]["text"]
    grafana_text = blocks[4]["text"]["text"]
    assert (
        "• *5xx responses*: *20*  ▲ 566.7% (before: 3)  `▁▂█`  <https://mochacare.grafana.net/explore?" in grafana_text
    )
    assert "*3.48%*  ▲ 532.7% (before: 0.55%)" in grafana_text
    assert "*375 ms*  ▲ 294.7% (before: 95 ms)" in grafana_text
    assert "• *Firing alerts*: *1*  <https://g.example/alerting/list|Alerting>" in grafana_text
    assert blocks[6]["text"]["text"] == (
        ":red_circle: *Amplitude* failed: rate limit hit: concurrent. Next: wait a few minutes."
    )
    assert fallback_text(built).startswith("Morning report: Grafana, last 12 h vs the 12 h before: 20 5xx responses")


def test_failed_and_no_data_sections_are_one_line_each() -> None:
    grafana = no_data("grafana", "Grafana", "Grafana has no data yet: no log lines", "set up the\nVercel log drain.")
    amplitude = failed("amplitude", "Amplitude", "HTTP 500", "try again later")
    for section in (grafana, amplitude):
        text = section_mrkdwn(section)
        assert "\n" not in text and section.title in text and "Next:" in text
    assert section_mrkdwn(grafana).endswith("Next: set up the Vercel log drain.")
    summary = template_summary([grafana, amplitude])
    assert summary == "Grafana has no data yet: no log lines. Amplitude: failed (HTTP 500)."


def test_a_huge_section_is_cut_to_fit_one_message() -> None:
    built = report(grafana_ok(patterns=2000, label="x" * 200), grafana_ok(patterns=2000, label="y" * 200))
    blocks = report_blocks(built)
    assert violations(blocks) == [] and len(blocks) <= 50
    assert any(CUT in (b.get("text") or {}).get("text", "") for b in blocks)


def test_the_header_and_a_long_summary_count_against_the_50_blocks() -> None:
    built = report(grafana_ok(), grafana_ok(), summary="word " * 40_000)  # ~67 summary chunks on its own
    blocks = report_blocks(built)
    assert violations(blocks) == [] and len(blocks) == 50
    assert [b["type"] for b in blocks[:3]] == ["header", "context", "section"]
    assert sum(b["type"] == "divider" for b in blocks) == 2  # both sections are still there, after the summary
    assert any(CUT in (b.get("text") or {}).get("text", "") for b in blocks)


def test_more_sections_than_fit_end_with_a_line_saying_so() -> None:
    built = report(*[grafana_ok(patterns=1) for _ in range(30)])
    blocks = report_blocks(built)
    assert violations(blocks) == [] and 49 <= len(blocks) <= 50
    shown = sum(b["type"] == "divider" for b in blocks)
    assert f"{30 - shown} more sections not shown" in blocks[-1]["text"]["text"]


def test_upstream_text_cannot_mention_everyone_or_forge_links() -> None:
    evil = grafana_ok(label="<!channel> <https://evil.example|click> `rm`")
    evil.lines.append("<!here> & friends")
    text = section_mrkdwn(evil)
    assert "<!channel>" not in text and "<https://evil" not in text and "<!here>" not in text
    assert "&lt;!channel&gt;" in text and "&amp; friends" in text and "`rm`" not in text


def test_secrets_are_redacted_everywhere() -> None:
    secret = "glsa_supersecret_token_123"
    leaky = failed("grafana", "Grafana", f"token {secret} rejected", "rotate it")
    built = report(leaky)
    assert secret not in str(report_blocks(built, [secret]))
    assert secret not in report_text(built, [secret]) and secret not in fallback_text(built, [secret])


def test_plain_text_for_a_terminal() -> None:
    text = report_text(report(grafana_ok(), no_data("amplitude", "Amplitude", "no events", "send them")))
    assert text.startswith("sitrep · Morning report\nGenerated Tue 17 Feb 2026 08:00 PST")
    # links become numbered notes, each URL listed once at the end: the section link, Explore, Alerting
    assert "*Grafana*  ·  last 12 h vs the 12 h before  ·  Grafana [1]" in text
    assert "• *5xx responses*: *20*  ▲ 566.7% (before: 3)  `▁▂█`  Explore [2]" in text
    assert text.endswith(f"[1] https://g.example\n[2] {EXPLORE}\n[3] https://g.example/alerting/list\n")
    assert "<http" not in text
    assert "🟡 *Amplitude* no data: no events. Next: send them." in text
    assert "`TimeoutError: upstream <*> timed out #0`: 100" in text


def test_a_number_reads_the_same_in_a_report_and_in_an_answer() -> None:
    for value in (1234.5, 1500.4, 566.67, 12.5, 0.12345, 7):
        line = section_mrkdwn(Section("x", "X", OK, window="w", figures=[Figure("Requests", value)]))
        assert f"*Requests*: *{agent_num(value)}*" in line
    p95 = figure_value(Figure("p95", 0.4567, unit="s"))
    assert p95 == duration(0.4567, "http_request_duration_seconds") == "457 ms"
    assert agent_num(1234.5) == "1,234" and agent_num(None) == "n/a"


def test_an_amplitude_section_with_no_error_types_summarises_without_raising() -> None:
    # A week with no Agent Failed: Amplitude's group-by answers an empty `series`, so the listing has no items.
    section = Section("amplitude", "Amplitude", window="last 7 days vs the 7 before")
    section.figures = [
        Figure("Agent Started", 120, 100),
        Figure("Agent Failed", 0, 2),
        Figure("Agent Timeout", 0, 0),
        Figure("Failure rate", 0.0, 2.0, unit="%"),
    ]
    section.listings = [Listing("Top error_type (Agent Failed)", [], empty="none in the window")]
    text = template_summary([section])
    assert text.startswith("Amplitude, last 7 days vs the 7 before: 120 agent runs started")
    assert "top error_type" not in text
