"""The answer's Block Kit: sections within limits, the footer, the 👍/👎 buttons carrying the answer id."""

from __future__ import annotations

from bot.blocks.answer import FEEDBACK_DOWN, FEEDBACK_UP, answer_blocks, feedback_block, feedback_thanks, footer_block
from bot.blocks.limits import violations


def test_answer_with_footer_and_feedback_stays_within_limits() -> None:
    blocks = answer_blocks("z" * 3000 * 60, answer_id=12, footer="claude · 3 tool calls")
    assert len(blocks) == 50 and violations(blocks) == []
    assert blocks[-3]["text"]["text"] == "_(answer cut to fit one Slack message)_"
    assert blocks[-2] == footer_block("claude · 3 tool calls")
    assert blocks[-1] == feedback_block(12)


def test_feedback_buttons_carry_the_answer_id() -> None:
    block = feedback_block(7)
    assert block["type"] == "actions" and block["block_id"] == "answer_feedback"
    assert [(e["action_id"], e["value"]) for e in block["elements"]] == [(FEEDBACK_UP, "7"), (FEEDBACK_DOWN, "7")]
    assert all(e["type"] == "button" and len(e["text"]["text"]) <= 75 for e in block["elements"])


def test_footer_is_escaped_context_and_answers_without_id_have_no_buttons() -> None:
    assert footer_block("a <b> & c")["elements"][0]["text"] == "a &lt;b&gt; &amp; c"
    blocks = answer_blocks("hello")
    assert [b["type"] for b in blocks] == ["section"]


def test_thanks_differ_by_vote() -> None:
    assert feedback_thanks("up").startswith("👍") and feedback_thanks("down").startswith("👎")


def test_an_empty_or_blank_answer_is_one_valid_block() -> None:
    for text in ("", "   ", "\n\n", "\t"):
        blocks = answer_blocks(text, answer_id=3)
        assert violations(blocks) == [], text
        assert blocks[0]["type"] == "section" and blocks[0]["text"]["text"].strip()
        assert blocks[-1] == feedback_block(3)
