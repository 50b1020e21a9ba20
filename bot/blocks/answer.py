"""An answer posted in a thread: mrkdwn split into sections within Slack's limits."""

from __future__ import annotations

from slack_sdk.models.blocks import SectionBlock

from bot.blocks.text import split_mrkdwn

MESSAGE_BLOCKS_MAX = 50


def answer_blocks(text: str, *, extra: list[dict] | None = None) -> list[dict]:
    """Sections of at most 3000 characters each; the whole message stays within 50 blocks."""
    extra = extra or []
    room = MESSAGE_BLOCKS_MAX - len(extra)
    chunks = split_mrkdwn(text)
    if len(chunks) > room:
        chunks = chunks[: room - 1] + ["_(answer cut to fit one Slack message)_"]
    return [SectionBlock(text=chunk).to_dict() for chunk in chunks] + extra


def fallback_text(text: str, limit: int = 3000) -> str:
    """The notification text that goes beside the blocks."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
