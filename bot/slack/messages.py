"""Direct messages to sitrep work like mentions."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.dispatch import Question
from bot.services import Services
from bot.slack.mentions import thread_of
from bot.slack.replies import answer_in_thread

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


def register(app: AsyncApp, services: Services) -> None:
    @app.event("message")
    async def on_message(event: dict, body: dict, client: AsyncWebClient) -> None:
        if not is_user_dm(event):
            return
        team = await services.team_for(body.get("team_id"))
        question = Question(
            text=event.get("text") or "",
            team=team,
            source="dm",
            user=event.get("user"),
            channel=event["channel"],
            thread_ts=thread_of(event),
            message_ts=event.get("ts"),
        )
        await answer_in_thread(services, client, question)
