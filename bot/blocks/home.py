"""The Home tab: the live integration readiness table with the next step for each row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.blocks.readiness import readiness_section, readiness_summary
from skills.base import Readiness

REFRESH_ACTION = "home_refresh"

# Buttons a readiness row may ask for (Readiness.actions), by action id.
ROW_BUTTONS: dict[str, str] = {
    "amplitude_snippet": "Show tracking snippet",
    "report_run_now": "Run report now",
    "configure_grafana": "Configure Grafana",
    "configure_amplitude": "Configure Amplitude",
    "link_github": "Link GitHub",
}


def home_view(rows: Sequence[Readiness], *, generated_at: datetime, timezone_name: str = "UTC") -> dict:
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
        if buttons:
            blocks.append(ActionsBlock(elements=buttons))
    blocks += [
        DividerBlock(),
        ActionsBlock(elements=[ButtonElement(text="Refresh", action_id=REFRESH_ACTION, value="refresh")]),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Checked {generated_at.strftime('%a %d %b %H:%M')} {timezone_name} · "
                    "Ask me anything with `@sitrep` in a channel, or DM me."
                )
            ]
        ),
    ]
    return View(type="home", callback_id="sitrep_home", blocks=blocks).to_dict()
