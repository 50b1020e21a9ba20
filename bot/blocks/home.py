"""The Home tab: the live integration readiness table with the next step for each row, then extra sections."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.blocks.config_menu import TEST_CONNECTIONS_ACTION
from bot.blocks.readiness import readiness_section, readiness_summary
from skills.base import Readiness

REFRESH_ACTION = "home_refresh"
HOME_BLOCKS_MAX = 100

# Buttons a readiness row may ask for (Readiness.actions), by action id.
ROW_BUTTONS: dict[str, str] = {
    "amplitude_snippet": "Show tracking snippet",
    "report_run_now": "Run report now",
    "configure_grafana": "Configure Grafana",
    "configure_amplitude": "Configure Amplitude",
    "link_github": "Link GitHub",
}


def readiness_blocks(rows: Sequence[Readiness], row_buttons: Mapping[str, Sequence[ButtonElement]] = {}) -> list:
    """The readiness table: a summary line, then each row with its buttons (and `row_buttons[integration]`, the
    buttons made for this viewer, e.g. an admin's "Instrument owner/name")."""
    blocks: list = [
        HeaderBlock(text="sitrep: integration readiness"),
        SectionBlock(text=MarkdownTextObject(text=readiness_summary(rows))),
        DividerBlock(),
    ]
    for row in rows:
        blocks.append(readiness_section(row))
        buttons = [
            ButtonElement(text=ROW_BUTTONS[a], action_id=a, value=row.integration)
            for a in row.actions
            if a in ROW_BUTTONS
        ]
        buttons += list(row_buttons.get(row.integration, ()))
        if buttons:
            blocks.append(ActionsBlock(elements=buttons))
    return blocks


def footer_blocks(generated_at: datetime, timezone_name: str) -> list:
    return [
        DividerBlock(),
        ActionsBlock(
            elements=[
                ButtonElement(text="Refresh", action_id=REFRESH_ACTION, value="refresh"),
                ButtonElement(text="Test connections", action_id=TEST_CONNECTIONS_ACTION, value="test"),
            ]
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Checked {generated_at.strftime('%a %d %b %H:%M')} {timezone_name} · "
                    "Ask me anything with `@sitrep` in a channel, or DM me."
                )
            ]
        ),
    ]


def home_view(
    rows: Sequence[Readiness],
    *,
    generated_at: datetime,
    timezone_name: str = "UTC",
    sections: Sequence[Sequence[Block]] = (),
    row_buttons: Mapping[str, Sequence[ButtonElement]] = {},
) -> dict:
    """The Home tab: readiness, then each extra section (schedule, history, …) after a divider, then the footer.

    Sections are bounded by their builders; should they add up to more than Slack's 100 blocks, the last
    sections are dropped whole rather than the footer.
    """
    blocks = readiness_blocks(rows, row_buttons)
    footer = footer_blocks(generated_at, timezone_name)
    for section in sections:
        if section and len(blocks) + 1 + len(section) + len(footer) <= HOME_BLOCKS_MAX:
            blocks += [DividerBlock(), *section]
    return View(type="home", callback_id="sitrep_home", blocks=blocks + footer).to_dict()
