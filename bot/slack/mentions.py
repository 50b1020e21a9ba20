"""@sitrep mentions: answered in the thread of the mention."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from agent.question import Question
from bot.runtime import Runtime
from bot.slack.replies import answer_in_thread, answering

log = logging.getLogger(__name__)


def thread_of(event: dict) -> str | None:
    return event.get("thread_ts") or event.get("ts")


async def answer_event(runtime: Runtime, client: AsyncWebClient, event: dict, body: dict, source: str) -> None:
    """A user's message event (a mention or a DM) answered in its thread."""
    services = runtime.services
    with answering():  # from the start: a shutdown lets it finish
        team = await services.team_for(body.get("team_id"))
        question = Question(
            text=event.get("text") or "",
            team=team,
            source=source,
            user=event.get("user"),
            channel=event["channel"],
            thread_ts=thread_of(event),
            message_ts=event.get("ts"),
        )
        event_id = body.get("event_id")
        if not event_id:
            await answer_in_thread(runtime, client, question)
            return
        events = services.storage.events

        async def posting() -> bool:  # still ours? then from here on no replica may adopt it
            return await events.posting(event_id)

        await answer_in_thread(runtime, client, question, before_post=posting)
        await events.finish(event_id)


def register(app: AsyncApp, runtime: Runtime) -> None:
    @app.event("app_mention")
    async def on_mention(event: dict, body: dict, client: AsyncWebClient) -> None:
        if not event.get("channel") or not thread_of(event):
            log.warning("app_mention without channel or ts (event %s): ignored", body.get("event_id"))
            return
        await answer_event(runtime, client, event, body, "mention")
