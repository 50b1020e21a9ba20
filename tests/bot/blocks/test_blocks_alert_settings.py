"""The Alert investigations modal's builders as pure functions: filled from what is stored, read back as Slack
submits it, field errors for a form that cannot be stored, and a merge patch of only what changed."""

from __future__ import annotations

from typing import Any

from bot.blocks.alert_settings import (
    CHANNELS_BLOCK,
    ENABLED_BLOCK,
    ONLY,
    SCOPE_BLOCK,
    UNKNOWN_BLOCK,
    WEBHOOK_BLOCK,
    AlertSettings,
    alert_settings_errors,
    alert_settings_modal,
    alerts_patch,
    read_alert_settings,
    read_only_alert_settings,
)
from bot.blocks.limits import view_violations
from storage.team_config import TeamConfig


def state_of(view: dict) -> dict[str, dict[str, dict[str, Any]]]:
    """view.state.values as Slack sends them when the person changes nothing."""
    values: dict[str, dict[str, dict[str, Any]]] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        el = block["element"]
        kind, value = el["type"], {"type": el["type"]}
        if kind == "checkboxes":
            value["selected_options"] = el.get("initial_options") or []
        elif kind == "radio_buttons":
            value["selected_option"] = el.get("initial_option")
        elif kind == "multi_conversations_select":
            value["selected_conversations"] = el.get("initial_conversations") or []
        elif kind == "conversations_select":
            value["selected_conversation"] = el.get("initial_conversation")
        values[block["block_id"]] = {el["action_id"]: value}
    return values


def test_the_defaults_round_trip_unchanged() -> None:
    view = alert_settings_modal(AlertSettings())
    assert view_violations(view) == []
    form = read_alert_settings(state_of(view))
    assert form == AlertSettings()
    assert alerts_patch(form, AlertSettings()) == {}


def test_stored_channels_are_offered_and_read_back() -> None:
    current = AlertSettings(
        enabled=True, channels=("C0ALERTS", "G0PRIV"), channel="C0HOOKS", unknown_format_reply=False
    )
    view = alert_settings_modal(current)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks[CHANNELS_BLOCK]["element"]["initial_conversations"] == ["C0ALERTS", "G0PRIV"]
    assert blocks[SCOPE_BLOCK]["element"]["initial_option"]["value"] == ONLY
    assert blocks[WEBHOOK_BLOCK]["element"]["initial_conversation"] == "C0HOOKS"
    assert "initial_options" not in blocks[UNKNOWN_BLOCK]["element"]
    assert read_alert_settings(state_of(view)) == current


def test_a_changed_form_patches_only_what_changed_and_the_patch_validates() -> None:
    state = state_of(alert_settings_modal(AlertSettings()))
    state[SCOPE_BLOCK]["value"]["selected_option"] = {"value": ONLY}
    state[CHANNELS_BLOCK]["value"]["selected_conversations"] = ["C0ALERTS", "C0ALERTS", "C0OPS"]
    state[UNKNOWN_BLOCK]["value"]["selected_options"] = []
    form = read_alert_settings(state)
    patch = alerts_patch(form, AlertSettings())
    assert patch == {"alerts": {"channels": ["C0ALERTS", "C0OPS"], "unknown_format_reply": False}}
    config = TeamConfig.model_validate(patch)
    assert config.alerts.watches("C0OPS") and not config.alerts.watches("C0OTHER")
    # back to every channel: the key is removed (merge patch null), so the default applies again
    assert alerts_patch(AlertSettings(), form) == {"alerts": {"channels": None, "unknown_format_reply": True}}


def test_only_these_channels_with_none_picked_is_a_field_error() -> None:
    state = state_of(alert_settings_modal(AlertSettings()))
    state[SCOPE_BLOCK]["value"]["selected_option"] = {"value": ONLY}
    errors = alert_settings_errors(read_alert_settings(state))
    assert set(errors) == {CHANNELS_BLOCK} and "at least one channel" in errors[CHANNELS_BLOCK]
    state[ENABLED_BLOCK]["value"]["selected_options"] = []
    off = read_alert_settings(state)
    assert alert_settings_errors(off) == {} and off.enabled is False  # off: no channel needed


def test_the_read_only_view_shows_the_settings_and_has_no_submit() -> None:
    view = read_only_alert_settings(AlertSettings(enabled=False, channels=("C0ALERTS",)))
    assert "submit" not in view and view_violations(view) == []
    text = view["blocks"][0]["text"]["text"]
    assert "*Alert investigations:* off" in text and "<#C0ALERTS>" in text
    assert "Read-only" in view["blocks"][1]["elements"][0]["text"]
