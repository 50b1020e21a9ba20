"""Direct messages to sitrep work like mentions."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.context import runtime_of
from bot.slack.mentions import spawn_answer

log = logging.getLogger(__name__)


def is_user_dm(event: dict) -> bool:
    return (
        event.get("channel_type") == "im"
        and not event.get("subtype")
        and not event.get("bot_id")
        and bool(event.get("user"))
        and bool(event.get("channel"))
        and bool(event.get("ts"))
    )


async def on_message(event: dict, body: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    if not is_user_dm(event):
        return
    spawn_answer(runtime_of(context), client, event, body, "dm")


def register(app: AsyncApp) -> None:
    app.event("message")(on_message)
