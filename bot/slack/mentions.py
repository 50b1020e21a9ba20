"""@sitrep mentions: answered in the thread of the mention, in the background under the Supervisor's "answers"
group (a shutdown lets the answers under way finish: bot/slack/run.py)."""

from __future__ import annotations

import asyncio
import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from agent.question import Question
from bot.runtime import Runtime
from bot.slack.context import runtime_of
from bot.slack.replies import ANSWERS, answer_in_thread

log = logging.getLogger(__name__)

WHAT = {"mention": "answering a mention", "dm": "answering a direct message"}


def thread_of(event: dict) -> str | None:
    return event.get("thread_ts") or event.get("ts")


def spawn_answer(runtime: Runtime, client: AsyncWebClient, event: dict, body: dict, source: str) -> asyncio.Task:
    """A user's message event (a mention or a DM) answered in its thread, owned by the Supervisor's "answers"."""
    work = answer_event(runtime, client, event, body, source)
    return runtime.supervisor.spawn(work, WHAT.get(source, f"answering a {source}"), group=ANSWERS)


async def answer_event(runtime: Runtime, client: AsyncWebClient, event: dict, body: dict, source: str) -> None:
    """The answer itself: the ledger (storage/events.py) is told right before the post (`posting`: still ours?)
    and once it is done (`finish`)."""
    services = runtime.services
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


async def on_mention(event: dict, body: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    if not event.get("channel") or not thread_of(event):
        log.warning("app_mention without channel or ts (event %s): ignored", body.get("event_id"))
        return
    spawn_answer(runtime_of(context), client, event, body, "mention")


def register(app: AsyncApp) -> None:
    app.event("app_mention")(on_mention)
