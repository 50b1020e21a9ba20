"""The mrkdwn helpers, kept importable here for the Block Kit builders; they live in bot/agent/mrkdwn.py."""

from bot.agent.mrkdwn import FIELD_TEXT_MAX, HEADER_TEXT_MAX, SECTION_TEXT_MAX, escape, plain, split_mrkdwn, truncate

__all__ = ["FIELD_TEXT_MAX", "HEADER_TEXT_MAX", "SECTION_TEXT_MAX", "escape", "plain", "split_mrkdwn", "truncate"]
