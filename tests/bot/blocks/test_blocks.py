from datetime import UTC, datetime

from bot.blocks.answer import answer_blocks
from bot.blocks.config_menu import TEST_CONNECTIONS_ACTION
from bot.blocks.help import help_text
from bot.blocks.home import REFRESH_ACTION, home_view
from bot.blocks.limits import view_violations, violations
from bot.blocks.readiness import readiness_table_text
from skills.base import Readiness, ReadinessStatus
from text.mrkdwn import plain, split_mrkdwn

ROWS = [
    Readiness("Slack bot", ReadinessStatus.READY, "nothing", "Mention @sitrep.", "connected as @sitrep"),
    Readiness("Scheduled reports", ReadinessStatus.NOT_CONFIGURED, "no report channel", "Set SITREP_REPORT_CHANNEL."),
    Readiness("Grafana", ReadinessStatus.BLOCKED, "no log lines in the last hour", "Set up the Vercel log drain."),
    Readiness(
        "Amplitude",
        ReadinessStatus.BLOCKED,
        "the app sends no events yet",
        "Instrument the app.",
        actions=("amplitude_snippet",),
    ),
    Readiness("GitHub", ReadinessStatus.NOT_CONFIGURED, "no GitHub App", "Create a GitHub App."),
]


def _texts(blocks: list[dict]) -> str:
    return "\n".join((b.get("text") or {}).get("text", "") for b in blocks)


def test_home_view_has_a_row_per_integration_with_status_and_next_step() -> None:
    view = home_view(ROWS, generated_at=datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    assert view["type"] == "home"
    assert view_violations(view) == []
    text = _texts(view["blocks"])
    for row in ROWS:
        assert f"*{row.integration}*" in text
        assert row.next_step in text
    assert "1 of 5 ready" in text
    assert ":no_entry: *Grafana*: Blocked" in text
    assert "*Missing:* no log lines in the last hour" in text
    action_ids = [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert action_ids == ["amplitude_snippet", REFRESH_ACTION, TEST_CONNECTIONS_ACTION]


def test_home_view_escapes_mrkdwn_in_row_text() -> None:
    row = Readiness("Grafana", ReadinessStatus.BLOCKED, "token <rejected> & more", "Fix it")
    text = _texts(home_view([row], generated_at=datetime(2026, 1, 1, tzinfo=UTC))["blocks"])
    assert "token &lt;rejected&gt; &amp; more" in text


def test_answer_blocks_split_long_text_within_limits() -> None:
    text = "\n\n".join(f"paragraph {i} " + "x" * 900 for i in range(40))
    blocks = answer_blocks(text)
    assert violations(blocks) == []
    assert len(blocks) > 1
    assert "paragraph 0" in blocks[0]["text"]["text"]


def test_answer_blocks_cap_at_fifty_blocks() -> None:
    blocks = answer_blocks("y" * 3000 * 80, extra=[{"type": "divider"}])
    assert len(blocks) == 50
    assert violations(blocks) == []
    assert "cut to fit" in blocks[-2]["text"]["text"]


def test_split_keeps_code_fences_balanced() -> None:
    text = "```\n" + "\n".join(f"line {i}" for i in range(1000)) + "\n```"
    chunks = split_mrkdwn(text, 500)
    assert len(chunks) > 1
    assert all(c.count("```") % 2 == 0 for c in chunks)
    assert all(len(c) <= 500 for c in chunks)


def test_limits_catch_violations() -> None:
    assert violations([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}])
    assert violations([{"type": "divider"}] * 51)
    assert view_violations({"type": "modal", "title": {"type": "plain_text", "text": "t" * 25}, "blocks": []})


def test_help_text_says_what_is_ready() -> None:
    text = help_text(ROWS)
    assert "1 of 5 ready" in text
    assert "Grafana: Blocked, next: Set up the Vercel log drain." in text
    assert "Slack bot: Ready" in text


def test_terminal_table_lists_every_row() -> None:
    table = readiness_table_text(ROWS)
    lines = table.splitlines()
    assert lines[0].split() == ["INTEGRATION", "STATUS", "DETAILS"]
    for row in ROWS:
        assert any(line.startswith(row.integration) for line in lines)
    assert "missing: the app sends no events yet" in table


def test_plain_turns_links_into_footnotes() -> None:
    text = plain(
        "see <https://g.example/e?x=1|30> of <https://g.example/e?x=2|330> &amp; <https://g.example/e?x=1|again>"
    )
    assert text == "see 30 [1] of 330 [2] & again [1]\n\n[1] https://g.example/e?x=1\n[2] https://g.example/e?x=2"


def test_a_stored_url_longer_than_the_input_takes_does_not_break_the_modal() -> None:
    from bot.blocks.credentials import FORMS, credentials_modal
    from bot.blocks.limits import view_violations

    long_url = "https://mochacare.grafana.net/" + "a" * 3500
    view = credentials_modal(FORMS["grafana"], {"url": long_url, "token": "set, ends in …1234"})
    assert view_violations(view) == []
    url_block = next(b for b in view["blocks"] if b.get("block_id") == "field_url")
    assert "initial_value" not in url_block["element"] and url_block["optional"] is True
    assert "longer than" in url_block["hint"]["text"]
    fits = credentials_modal(FORMS["grafana"], {"url": "https://mochacare.grafana.net"})
    fit_block = next(b for b in fits["blocks"] if b.get("block_id") == "field_url")
    assert fit_block["element"]["initial_value"] == "https://mochacare.grafana.net"
    assert len(fit_block["element"]["initial_value"]) <= fit_block["element"]["max_length"]


def test_limits_catch_an_initial_value_longer_than_the_input() -> None:
    from bot.blocks.limits import violations

    element = {"type": "plain_text_input", "action_id": "v", "initial_value": "x" * 3001}
    block = {"type": "input", "block_id": "b", "label": {"type": "plain_text", "text": "L"}, "element": element}
    assert any("initial_value" in p for p in violations([block], "modal"))
    short = dict(block, element=dict(element, initial_value="x" * 20, max_length=10))
    assert any("initial_value" in p for p in violations([short], "modal"))
