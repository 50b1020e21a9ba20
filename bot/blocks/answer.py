"""An answer posted in a thread: mrkdwn split into sections within Slack's limits, a footer, 👍/👎 buttons."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock

from text.mrkdwn import escape, split_mrkdwn, truncate

MESSAGE_BLOCKS_MAX = 50
FEEDBACK_BLOCK = "answer_feedback"
FEEDBACK_UP = "answer_feedback_up"
FEEDBACK_DOWN = "answer_feedback_down"
CONTEXT_TEXT_MAX = 2000
EMPTY_ANSWER = "_(the answer came back empty: ask again, or rephrase the question)_"


def answer_blocks(
    text: str, *, extra: list[dict] | None = None, answer_id: int | None = None, footer: str | None = None
) -> list[dict]:
    """Sections of at most 3000 characters each, then the footer and the feedback buttons; at most 50 blocks."""
    extra = list(extra or [])
    if footer:
        extra.append(footer_block(footer))
    if answer_id is not None:
        extra.append(feedback_block(answer_id))
    room = MESSAGE_BLOCKS_MAX - len(extra)
    chunks = [c for c in split_mrkdwn(text) if c.strip()] or [EMPTY_ANSWER]  # a section needs some text
    if len(chunks) > room:
        chunks = chunks[: room - 1] + ["_(answer cut to fit one Slack message)_"]
    return [SectionBlock(text=chunk).to_dict() for chunk in chunks] + extra


def footer_block(footer: str) -> dict:
    """A small grey line under the answer: how it was made."""
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(escape(footer), CONTEXT_TEXT_MAX))]).to_dict()


def feedback_block(answer_id: int) -> dict:
    """👍 / 👎 buttons carrying the answer's id."""
    value = str(answer_id)
    return ActionsBlock(
        block_id=FEEDBACK_BLOCK,
        elements=[
            ButtonElement(text="👍 Helpful", action_id=FEEDBACK_UP, value=value),
            ButtonElement(text="👎 Not helpful", action_id=FEEDBACK_DOWN, value=value),
        ],
    ).to_dict()


def feedback_thanks(vote: str) -> str:
    """The ephemeral line a user sees after a click."""
    if vote == "up":
        return "👍 Thanks! Noted with this answer."
    return "👎 Thanks, noted with this answer. Say what was missing in the thread and I will take another look."


def fallback_text(text: str, limit: int = 3000) -> str:
    """The notification text that goes beside the blocks."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
