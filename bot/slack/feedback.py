"""👍/👎 on an answer: stored with the answer (one vote per user, the last click wins), acknowledged privately."""

from __future__ import annotations

import logging
import re

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.blocks.answer import FEEDBACK_DOWN, FEEDBACK_UP, feedback_thanks
from bot.slack.context import runtime_of

log = logging.getLogger(__name__)

FEEDBACK_ACTIONS = re.compile(f"^(?:{FEEDBACK_UP}|{FEEDBACK_DOWN})$")
GONE = "That answer is no longer stored, so the feedback was not recorded."


async def on_feedback(
    ack: AsyncAck, body: dict, action: dict, respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    vote = "up" if action.get("action_id") == FEEDBACK_UP else "down"
    user = (body.get("user") or {}).get("id") or "unknown"
    try:
        answer_id = int(str(action.get("value") or ""))
    except ValueError:
        log.warning("feedback button without an answer id: %r", action.get("value"))
        return
    try:
        stored = await runtime_of(context).services.storage.conversations.record_feedback(answer_id, user, vote)
    except Exception:
        log.exception("storing feedback on answer %s failed", answer_id)
        stored = False
    text = feedback_thanks(vote) if stored else GONE
    try:
        await respond(text=text, response_type="ephemeral", replace_original=False)
    except Exception:  # the vote is stored; the thank-you is a nicety
        log.info("could not acknowledge feedback on answer %s", answer_id)


def register(app: AsyncApp) -> None:
    app.action(FEEDBACK_ACTIONS)(on_feedback)
