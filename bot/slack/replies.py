"""Answering a question in a Slack thread: one place for every surface that posts an answer.

While the agent works the thread shows progress: the assistant status "is investigating…" when Slack accepts
it (assistant threads), else an :eyes: reaction on the question, removed once the answer is posted. The answer
goes through the Runtime's poster (paced with the channel's other posts, first in line, durable: a mention's answer
is keyed by its message, so an answer a dead replica had already handed over is not posted twice). Everything
posted is redacted; a failure becomes one short line, never a traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from agent.question import Question
from agent.services import Services
from bot.blocks.answer import fallback_text
from bot.dispatch import Answer, answer, needs_agent
from bot.runtime import Runtime
from bot.slack_client import error_of
from skills.base import redact
from storage.poster import PRIORITY_ANSWER, PostFailed

log = logging.getLogger(__name__)

ANSWERS = "answers"  # the Supervisor group of the answers under way (mentions, DMs, the message shortcut)
STATUS_TEXT = "is investigating…"
REACTION = "eyes"
FAILED = (
    ":warning: I could not answer that: {what}. Try again in a minute; if it keeps failing, "
    "check `python app.py status` and sitrep's log."
)


@dataclass
class Progress:
    """How the thread shows that sitrep is working, so it can be cleared afterwards."""

    kind: str  # status | reaction | none
    channel: str | None = None
    ts: str | None = None


async def show_progress(client: AsyncWebClient, question: Question) -> Progress:
    """assistant.threads.setStatus on the thread; when Slack refuses it, an :eyes: reaction on the question."""
    if not question.channel or not question.thread_ts:
        return Progress("none")
    try:
        await client.assistant_threads_setStatus(
            channel_id=question.channel, thread_ts=question.thread_ts, status=STATUS_TEXT
        )
        return Progress("status", question.channel, question.thread_ts)
    except SlackApiError as exc:
        log.debug("setStatus refused (%s): reacting instead", error_of(exc))
    target = question.message_ts or question.thread_ts
    try:
        await client.reactions_add(channel=question.channel, timestamp=target, name=REACTION)
        return Progress("reaction", question.channel, target)
    except SlackApiError as exc:
        log.info("could not show progress in %s: %s", question.channel, error_of(exc))
        return Progress("none")


async def clear_progress(client: AsyncWebClient, progress: Progress, posted: bool) -> None:
    """Remove the reaction; clear the status when no answer was posted (posting clears it by itself)."""
    if progress.channel is None or progress.ts is None:  # Progress("none"): nothing was shown
        return
    try:
        if progress.kind == "reaction":
            await client.reactions_remove(channel=progress.channel, timestamp=progress.ts, name=REACTION)
        elif progress.kind == "status" and not posted:
            await client.assistant_threads_setStatus(channel_id=progress.channel, thread_ts=progress.ts, status="")
    except SlackApiError as exc:
        log.info("clearing progress in %s failed: %s", progress.channel, error_of(exc))


async def answer_in_thread(
    runtime: Runtime,
    client: AsyncWebClient,
    question: Question,
    *,
    before_post: Callable[[], Awaitable[bool]] | None = None,
) -> str | None:
    """Run the question through dispatch and post the answer in its thread; returns the message ts.

    `before_post` runs right before chat.postMessage; when it says False (another replica took the event over),
    nothing is posted. The surfaces run it under the Supervisor's ANSWERS group, so a shutdown lets it finish."""
    services = runtime.services
    progress = await show_progress(client, question) if needs_agent(question) else Progress("none")
    try:
        reply = await answer(runtime, question)
    except Exception as exc:
        log.exception("answering a %s failed", question.source)
        reply = Answer(FAILED.format(what=_what(exc)))
    secrets = await _secrets(services)
    if before_post is not None and not await before_post():
        log.info("%s not posted: another replica took the event over", question.source)
        await clear_progress(client, progress, posted=False)
        return None
    ts = await post_answer(runtime, question, reply, secrets=secrets)
    await clear_progress(client, progress, posted=ts is not None)
    if ts and reply.answer_id:
        try:
            await services.storage.conversations.set_message_ts(reply.answer_id, ts)
        except Exception:
            log.exception("storing the answer's message ts failed")
    return ts


async def post_answer(
    runtime: Runtime, question: Question, reply: Answer, *, secrets: list[str] | None = None
) -> str | None:
    """chat.postMessage in the question's thread, text and blocks redacted, through the poster; the ts once
    posted, None when Slack refused it."""
    if question.channel is None:
        raise ValueError("post_answer needs the question's channel (the shell prints its answers instead)")
    poster = runtime.poster()
    if poster is None:
        raise ValueError("post_answer needs a Slack client (SLACK_BOT_TOKEN)")
    secrets = secrets or []
    blocks = json.loads(redact(json.dumps(reply.blocks), secrets)) if reply.blocks else None
    asked = question.source in ("mention", "dm") and question.message_ts
    ref = await poster.post(
        question.channel,
        fallback_text(redact(reply.text, secrets)),
        blocks=blocks,
        thread_ts=question.thread_ts,
        key=f"answer:{question.channel}:{question.message_ts}" if asked else None,
        priority=PRIORITY_ANSWER,
    )
    try:
        return await poster.sent(ref)
    except PostFailed as exc:
        log.error("chat.postMessage to %s failed: %s", question.channel, exc)
        return None


async def tell_user(runtime: Runtime, user: str, text: str) -> None:
    """A note to a person in their DM with sitrep (the app's Messages tab), for when there is nowhere else."""
    poster = runtime.poster()
    if poster is None:
        log.error("could not tell %s (no Slack client): %s", user, text[:80])
        return
    try:
        await poster.sent(await poster.post(user, text, priority=PRIORITY_ANSWER))
    except PostFailed as exc:
        log.error("could not tell %s: %s", user, exc)


async def _secrets(services: Services) -> list[str]:
    try:
        return await services.secrets()
    except Exception:  # redaction must not stop the answer; the agent already redacted its text
        log.exception("loading secrets for redaction failed")
        return []


def _what(exc: Exception) -> str:
    """What failed, in a few words a user can act on."""
    name = type(exc).__name__
    if "sqlite" in type(exc).__module__ or name == "OperationalError":
        return "sitrep's database did not answer"
    if isinstance(exc, TimeoutError):
        return "it took too long"
    return f"an internal error ({name})"
