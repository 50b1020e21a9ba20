"""Answering a question in a Slack thread: one place for every surface that posts an answer."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.answer import fallback_text
from bot.dispatch import Answer, Question, answer
from bot.services import Services

log = logging.getLogger(__name__)

FAILED = (
    ":warning: I could not answer that: {what}. Try again in a minute; if it keeps failing, "
    "check `python app.py status` and sitrep's log."
)


async def answer_in_thread(services: Services, client: AsyncWebClient, question: Question) -> str | None:
    """Run the question through dispatch and post the answer in its thread; returns the message ts."""
    try:
        reply = await answer(services, question)
    except Exception as exc:
        log.exception("answering a %s failed", question.source)
        reply = Answer(FAILED.format(what=type(exc).__name__))
    return await post_answer(client, question, reply)


async def post_answer(client: AsyncWebClient, question: Question, reply: Answer) -> str | None:
    try:
        result = await client.chat_postMessage(
            channel=question.channel,
            thread_ts=question.thread_ts,
            text=fallback_text(reply.text),
            blocks=reply.blocks or None,
            unfurl_links=False,
            unfurl_media=False,
        )
    except SlackApiError as exc:
        log.error("chat.postMessage to %s failed: %s", question.channel, exc.response.get("error"))
        return None
    return result.get("ts")
