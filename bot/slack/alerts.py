"""Alert notifications posted in a channel by another bot (Grafana's or Alertmanager's Slack contact point):
investigated in the message's thread without a mention (alerts/desk.py).

Needs the `message.channels` / `message.groups` bot events (manifest.json). Bolt hands an event to the first
listener that matches it, so this one is registered first with a matcher that takes only top-level channel
messages from other bots; sitrep's own messages, people's chat, DMs and thread replies go on to
bot/slack/messages.py (which answers DMs). A message
that looks like an alert but is in no format sitrep reads gets one short reply saying what it could read,
unless the team's `alerts.unknown_format_reply` is off. Channels: `alerts.enabled` and `alerts.channels`.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext

from alerts.model import Unreadable
from alerts.parse import from_a_bot, parse_slack_message
from alerts.render import unreadable_reply
from bot.runtime import Runtime
from bot.slack.context import runtime_of

log = logging.getLogger(__name__)

CHANNEL_TYPES = frozenset({"channel", "group"})


def own_message(event: dict[str, Any], identity: dict[str, Any] | None) -> bool:
    if not identity:
        return False
    return bool(
        (identity.get("bot_id") and event.get("bot_id") == identity.get("bot_id"))
        or (identity.get("user_id") and event.get("user") == identity.get("user_id"))
    )


def candidate(event: dict[str, Any], identity: dict[str, Any] | None) -> bool:
    """A top-level channel message from another bot."""
    return (
        event.get("channel_type", "channel") in CHANNEL_TYPES
        and bool(event.get("channel"))
        and bool(event.get("ts"))
        and event.get("subtype") in (None, "bot_message")
        and (not event.get("thread_ts") or event.get("thread_ts") == event.get("ts"))
        and from_a_bot(event)
        and not own_message(event, identity)
    )


async def take_alert_message(runtime: Runtime, event: dict, event_id: str | None = None) -> None:
    """Another bot's channel message: an alert recorded with the desk (investigated by its workers), one short
    reply to what looks like an alert sitrep cannot read, nothing for the rest. The event is kept in the ledger
    (storage/events.py) until then, so a replica that dies before this is done leaves it to be adopted
    (bot/background.py)."""
    try:
        await _take(runtime, event)
    finally:
        if event_id:
            await runtime.services.storage.events.finish(event_id)


async def _take(runtime: Runtime, event: dict) -> None:
    parsed = parse_slack_message(event)
    if parsed is None:
        return
    team = await runtime.services.team_for(None)
    settings = team.config.alerts
    channel, ts = str(event["channel"]), str(event["ts"])
    if not settings.watches(channel):
        return
    desk = runtime.alert_desk()
    if desk is None:
        return
    if isinstance(parsed, Unreadable):
        if settings.unknown_format_reply:
            await desk.poster.post(
                channel, unreadable_reply(parsed.what), thread_ts=ts, key=f"unreadable:{channel}:{ts}"
            )
        return
    await desk.accept(team, parsed, channel=channel, thread_ts=ts)


async def other_bots_channel_message(event: dict, context: AsyncBoltContext) -> bool:
    return candidate(event, runtime_of(context).slack_identity)


async def on_channel_message(event: dict, body: dict, context: AsyncBoltContext) -> None:
    try:
        await take_alert_message(runtime_of(context), event, body.get("event_id"))
    except Exception:
        log.exception("recording the alert in %s failed", event.get("channel"))


def register(app: AsyncApp) -> None:
    # Bolt runs only the first listener that matches an event: this one matches other bots' channel messages
    # only, and is registered before bot/slack/messages.py's, so DMs and everything else still reach that one.
    app.event("message", matchers=[other_bots_channel_message])(on_channel_message)
