"""manifest.json asks for exactly the scopes the code needs: each Web API method called, each event subscribed."""

from __future__ import annotations

import json
import re

from tests.support.environment import ROOT

MANIFEST = json.loads((ROOT / "manifest.json").read_text())

# Slack's method reference: the bot scopes each method the code calls needs (empty: none).
METHOD_SCOPES: dict[str, set[str]] = {
    "chat_postMessage": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "chat_update": {"chat:write"},
    "assistant_threads_setStatus": {"chat:write"},
    "reactions_add": {"reactions:write"},
    "reactions_remove": {"reactions:write"},
    "users_info": {"users:read"},
    "conversations_info": {"channels:read", "groups:read"},
    "conversations_join": {"channels:join"},
    "views_open": set(),
    "views_push": set(),
    "views_update": set(),
    "views_publish": set(),
    "auth_test": set(),
    "apps_connections_open": set(),
}
EVENT_SCOPES = {
    "app_mention": "app_mentions:read",
    "message.im": "im:history",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
}
CALL = re.compile(r"\.((?:chat|reactions|users|conversations|views|auth|apps|assistant|files|im)_[A-Za-z_]+)\(")


def called_methods() -> set[str]:
    sources = [p for d in ("bot", "reports", "review", "alerts", "skills") for p in (ROOT / d).rglob("*.py")] + [
        ROOT / "app.py"
    ]
    return {m for p in sources for m in CALL.findall(p.read_text())}


def test_every_method_the_code_calls_has_a_known_scope() -> None:
    unknown = called_methods() - set(METHOD_SCOPES)
    assert not unknown, f"add these methods' scopes to METHOD_SCOPES from Slack's reference: {unknown}"


def test_the_manifest_asks_for_exactly_the_scopes_used() -> None:
    needed = {scope for method in called_methods() for scope in METHOD_SCOPES[method]}
    needed |= {EVENT_SCOPES[e] for e in MANIFEST["settings"]["event_subscriptions"]["bot_events"] if e in EVENT_SCOPES}
    if MANIFEST["features"].get("slash_commands"):
        needed.add("commands")
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == needed
    assert "conversations_join" in called_methods() and "conversations_info" in called_methods()


def test_every_shortcut_in_the_manifest_has_a_listener() -> None:
    from bot.blocks.config_menu import MENU_SHORTCUT
    from bot.slack.shortcuts import GLOBAL_SHORTCUT, MESSAGE_SHORTCUT

    declared = {s["callback_id"] for s in MANIFEST["features"]["shortcuts"]}
    assert declared == {GLOBAL_SHORTCUT, MESSAGE_SHORTCUT, MENU_SHORTCUT}
    menu = next(s for s in MANIFEST["features"]["shortcuts"] if s["callback_id"] == MENU_SHORTCUT)
    assert menu["name"] == "Configure sitrep" and menu["type"] == "global"


def test_channel_messages_are_subscribed_for_alert_notifications() -> None:
    """bot/slack/alerts.py answers alert notifications other bots post in channels: it needs their messages."""
    events = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    assert {"message.channels", "message.groups"} <= events
