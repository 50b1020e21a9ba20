"""Direct messages to sitrep work like mentions."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.slack.mentions import answer_event

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


def register(app: AsyncApp, runtime: Runtime) -> None:
    @app.event("message")
    async def on_message(event: dict, body: dict, client: AsyncWebClient) -> None:
        if not is_user_dm(event):
            return
        await answer_event(runtime, client, event, body, "dm")
