"""The "Configure sitrep" menu, the buttons that open each config modal, and the small modals around them."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.blocks.readiness import STATUS_EMOJI, STATUS_LABEL
from bot.blocks.schedule import ADD_REPORT_ACTION
from skills.base import Readiness
from text.mrkdwn import escape, truncate

MENU_SHORTCUT = "sitrep_configure"
SCHEDULE_ACTION = "config_schedule"
ALERTS_ACTION = "config_alerts"  # bot/blocks/alert_settings.py
AGENT_ACTION = "config_agent"
TEST_CONNECTIONS_ACTION = "test_connections"

# Every config modal, in the order the menu and the Home tab offer them (action id -> button text).
CONFIG_BUTTONS: dict[str, str] = {
    SCHEDULE_ACTION: "Reports & schedule",
    ADD_REPORT_ACTION: "Add a report",
    AGENT_ACTION: "Agent settings",
    ALERTS_ACTION: "Alert investigations",
    "configure_grafana": "Configure Grafana",
    "configure_amplitude": "Configure Amplitude",
}
WHO_MAY = "workspace admins and owners, and the users listed in SITREP_ADMINS"


def config_buttons() -> ActionsBlock:
    return ActionsBlock(
        block_id="config_buttons",
        elements=[ButtonElement(text=text, action_id=action, value=action) for action, text in CONFIG_BUTTONS.items()],
    )


def config_menu_modal() -> dict:
    blocks = [
        SectionBlock(
            text=MarkdownTextObject(
                text="*Configure sitrep*: the report channel and schedule, new reports, the agent's prompt and "
                "model, and the Grafana and Amplitude credentials. Every change is audited and shown on the "
                "Home tab."
            )
        ),
        config_buttons(),
        ActionsBlock(
            elements=[ButtonElement(text="Test connections", action_id=TEST_CONNECTIONS_ACTION, value="test")]
        ),
        ContextBlock(elements=[MarkdownTextObject(text=f"Changes are open to {WHO_MAY}.")]),
    ]
    view = View(type="modal", callback_id="config_menu", title="Configure sitrep", close="Close", blocks=blocks)
    return view.to_dict()


def message_modal(title: str, lines: Sequence[str]) -> dict:
    text = truncate("\n".join(lines), 3000)
    return View(
        type="modal", title=title[:24], close="Done", blocks=[SectionBlock(text=MarkdownTextObject(text=text))]
    ).to_dict()


def loading_modal(title: str) -> dict:
    return message_modal(title, ["Loading…"])


def not_allowed_modal(admins: Sequence[str] = ()) -> dict:
    """What a non-admin sees on pressing a config button: who can change things. Nothing is stored."""
    named = ", ".join(f"<@{user}>" for user in admins[:20])
    lines = [
        f"Only {WHO_MAY} can change sitrep's settings, so nothing was changed.",
        f"SITREP_ADMINS: {named}." if named else "",
        "Ask one of them, or have an admin add your user id to SITREP_ADMINS. The Home tab shows the current "
        "settings to everyone.",
    ]
    return message_modal("Not allowed", [line for line in lines if line])


def connections_modal(results: Sequence[tuple[Readiness, float]]) -> dict:
    """Test connections: every readiness check run now, with how long each took."""
    blocks: list = []
    for row, seconds in results:
        took = f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"
        lines = [f"{STATUS_EMOJI[row.status]} *{escape(row.integration)}*: {STATUS_LABEL[row.status]} · {took}"]
        if row.detail:
            lines.append(escape(row.detail))
        if not row.ready:
            lines += [f"*Missing:* {escape(row.missing)}", f"*Next step:* {escape(row.next_step)}"]
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate("\n".join(lines), 3000))))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text="Each check ran just now, all at once.")]))
    return View(type="modal", title="Test connections", close="Done", blocks=blocks[:100]).to_dict()
