"""The Alert investigations modal: on/off, which channels' alert notifications sitrep investigates, where the
webhooks' alerts are posted, and whether an alert-like message sitrep cannot read gets a short reply. Pure:
the builders, the reader of the submitted state, the field errors and the merge patch of `alerts.*`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    ContextBlock,
    ConversationFilter,
    ConversationMultiSelectElement,
    ConversationSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    RadioButtonsElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.blocks.config_menu import WHO_MAY

ALERTS_CALLBACK = "alert_settings_submit"
ENABLED_BLOCK, SCOPE_BLOCK, CHANNELS_BLOCK = "alerts_enabled", "alerts_scope", "alerts_channels"
WEBHOOK_BLOCK, UNKNOWN_BLOCK = "alerts_webhook_channel", "alerts_unknown"
EVERY, ONLY = "every", "only"
MAX_CHANNELS = 100  # a multi_conversations_select holds at most 100


@dataclass(frozen=True)
class AlertSettings:
    """`alerts.*` as stored (storage/team_config.py AlertsConfig), or as a person filled the modal."""

    enabled: bool = True
    channels: tuple[str, ...] | None = None  # None: every channel sitrep is in
    channel: str | None = None  # the webhooks' channel when the URL names none
    unknown_format_reply: bool = True


def _filter() -> ConversationFilter:
    return ConversationFilter(include=["public", "private"], exclude_bot_users=True)


def _checkbox(block: str, label: str, text: str, checked: bool, hint: str | None = None) -> InputBlock:
    option = Option(value="on", text=text)
    return InputBlock(
        block_id=block,
        label=label,
        hint=hint,
        element=CheckboxesElement(action_id="value", options=[option], initial_options=[option] if checked else None),
        optional=True,
    )


def alert_settings_modal(current: AlertSettings) -> dict:
    """The form for an admin, filled with what is stored."""
    every = Option(value=EVERY, text="Every channel sitrep is in")
    only = Option(value=ONLY, text="Only the channels below")
    blocks: list = [
        SectionBlock(
            text=MarkdownTextObject(
                text="When Grafana or Alertmanager posts an alert in a channel sitrep is in, sitrep investigates it "
                "in the alert's thread: the rule in Explore, the signal, Loki's errors, the changes before it."
            )
        ),
        _checkbox(
            ENABLED_BLOCK, "Alert investigations", "Investigate alert notifications (alerts.enabled)", current.enabled
        ),
        InputBlock(
            block_id=SCOPE_BLOCK,
            label="In which channels",
            element=RadioButtonsElement(
                action_id="value", options=[every, only], initial_option=every if current.channels is None else only
            ),
        ),
        InputBlock(
            block_id=CHANNELS_BLOCK,
            label="Channels (with “Only the channels below”)",
            element=ConversationMultiSelectElement(
                action_id="value",
                initial_conversations=list(current.channels or []) or None,
                max_selected_items=MAX_CHANNELS,
                filter=_filter(),
                placeholder="Pick the alert channels",
            ),
            hint="sitrep must be a member to see their messages: a public channel is joined on save.",
            optional=True,
        ),
        InputBlock(
            block_id=WEBHOOK_BLOCK,
            label="Channel for webhook alerts",
            element=ConversationSelectElement(
                action_id="value", initial_conversation=current.channel, filter=_filter(), placeholder="Pick one"
            ),
            hint="Where POST /alerts/grafana and /alerts/alertmanager post when their URL has no ?channel=.",
            optional=True,
        ),
        _checkbox(
            UNKNOWN_BLOCK,
            "Unreadable notifications",
            "Reply once, saying what sitrep could read",
            current.unknown_format_reply,
            hint="To an alert-like message in a format sitrep does not know (alerts.unknown_format_reply).",
        ),
    ]
    return View(
        type="modal",
        callback_id=ALERTS_CALLBACK,
        title="Alert investigations",
        submit="Save",
        close="Cancel",
        blocks=blocks,
    ).to_dict()


def describe(current: AlertSettings) -> list[str]:
    """The settings as lines, for the read-only view."""
    channels = (
        "every channel sitrep is in"
        if current.channels is None
        else ", ".join(f"<#{c}>" for c in current.channels[:30]) or "no channel"
    )
    return [
        f"*Alert investigations:* {'on' if current.enabled else 'off'}",
        f"*Channels:* {channels}",
        f"*Webhook alerts go to:* {f'<#{current.channel}>' if current.channel else 'the channel in the URL only'}",
        f"*Reply to unreadable notifications:* {'yes' if current.unknown_format_reply else 'no'}",
    ]


def read_only_alert_settings(current: AlertSettings) -> dict:
    """What someone who may not change the settings sees: the settings, and who can change them."""
    blocks: list = [SectionBlock(text=MarkdownTextObject(text="\n".join(describe(current))))]
    blocks.append(
        ContextBlock(elements=[MarkdownTextObject(text=f":lock: Read-only: settings can be changed by {WHO_MAY}.")])
    )
    return View(type="modal", title="Alert investigations", close="Done", blocks=blocks).to_dict()


def read_alert_settings(state: Mapping[str, Any]) -> AlertSettings:
    def value(block: str) -> dict:
        return dict((state.get(block) or {}).get("value") or {})

    def checked(block: str) -> bool:
        options: Sequence[dict] = value(block).get("selected_options") or []
        return any(o.get("value") == "on" for o in options)

    scope = str((value(SCOPE_BLOCK).get("selected_option") or {}).get("value") or EVERY)
    picked = [str(c) for c in value(CHANNELS_BLOCK).get("selected_conversations") or [] if c]
    webhook = value(WEBHOOK_BLOCK).get("selected_conversation")
    return AlertSettings(
        enabled=checked(ENABLED_BLOCK),
        channels=tuple(dict.fromkeys(picked)) if scope == ONLY else None,
        channel=str(webhook) if webhook else None,
        unknown_format_reply=checked(UNKNOWN_BLOCK),
    )


def alert_settings_errors(form: AlertSettings) -> dict[str, str]:
    """Field errors a person can fix in the form (nothing is stored while there are any)."""
    if form.enabled and form.channels is not None and not form.channels:
        return {CHANNELS_BLOCK: "Pick at least one channel, or choose “Every channel sitrep is in”."}
    return {}


def alerts_patch(form: AlertSettings, current: AlertSettings) -> dict[str, Any]:
    """The merge patch of what changed under `alerts` (empty when nothing did)."""
    changed: dict[str, Any] = {}
    if form.enabled != current.enabled:
        changed["enabled"] = form.enabled
    if form.channels != current.channels:
        changed["channels"] = list(form.channels) if form.channels is not None else None
    if form.channel != current.channel:
        changed["channel"] = form.channel
    if form.unknown_format_reply != current.unknown_format_reply:
        changed["unknown_format_reply"] = form.unknown_format_reply
    return {"alerts": changed} if changed else {}
