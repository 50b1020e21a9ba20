"""Each Slack event_id is handled once, by one replica, and recorded before its envelope is acked.

Slack re-sends an event it thinks was not acked, possibly on another Socket Mode connection (another replica).
The ledger (storage/events.py) decides by the database: the first replica to record the event_id handles it;
every other delivery is acked and dropped. When the database cannot be reached even after retrying, the
envelope is left unacked (status 503 here, which the socket handler does not ack) so Slack delivers it again; so
is one SQLite could not write within its busy timeout.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse

from bot.slack.alerts import candidate
from bot.slack.context import runtime_of
from bot.slack.messages import is_user_dm

log = logging.getLogger(__name__)

NOT_RECORDED = 503  # the middleware's answer when the event could not be recorded: the envelope stays unacked


def gets_an_answer(body: dict, identity: dict | None = None) -> bool:
    """A mention, a user's direct message, or another bot's channel message (an alert, maybe): the events sitrep
    acts on after the ack, and adopts if their replica dies before it has."""
    event = body.get("event")
    if not isinstance(event, dict):
        return False
    if event.get("type") == "message" and candidate(event, identity):
        return True
    return event.get("type") == "app_mention" or (event.get("type") == "message" and is_user_dm(event))


async def drop_repeated_events(
    body: dict, context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
) -> BoltResponse | None:
    """The global middleware (after bot/slack/context.py's): record the event, or drop a repeated one."""
    event_id = body.get("event_id") if isinstance(body, dict) else None
    if isinstance(event_id, str) and event_id:
        runtime = runtime_of(context)
        try:
            first = await runtime.services.storage.events.record(
                event_id, body, answer=gets_an_answer(body, runtime.slack_identity)
            )
        except Exception as exc:  # unreachable, or SQLite still locked after its busy timeout: not recorded
            log.error(
                "event %s not recorded (%s: %s): left unacked, Slack will deliver it again",
                event_id,
                type(exc).__name__,
                exc,
            )
            return BoltResponse(status=NOT_RECORDED, body="")
        if not first:
            log.info("event %s already recorded (a Slack retry): acked, not handled again", event_id)
            return BoltResponse(status=200, body="")
    await next()
    return None


def register(app: AsyncApp) -> None:
    app.use(drop_repeated_events)
