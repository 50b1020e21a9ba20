"""Socket Mode: the Bolt app over slack_sdk's aiohttp client, acking every envelope it can parse.

`AckingSocketModeHandler` acks the envelopes Bolt has no listener for, so Slack does not redeliver them; the Web
API client it uses is bot/slack_client.py's `web_client` (SLACK_API_URL, slack_sdk's retry handlers).
"""

from __future__ import annotations

import logging
from time import time

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_bolt.async_app import AsyncApp
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.dedupe import NOT_RECORDED

__all__ = ["AckingSocketModeHandler", "build_app"]

log = logging.getLogger(__name__)


class AckingSocketModeHandler(AsyncSocketModeHandler):
    """Bolt leaves an envelope it has no listener for unacked, so Slack retries it; we ack it and log it."""

    async def handle(self, client: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:
        start = time()
        try:
            bolt_resp = await run_async_bolt_app(self.app, req)
        except Exception as exc:  # Bolt could not parse it (our listeners' errors go to the app's error handler)
            log.warning("a malformed %s envelope was acked and dropped (%s: %s)", req.type, type(exc).__name__, exc)
            log.debug("the malformed envelope's error", exc_info=True)
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        if bolt_resp.status == NOT_RECORDED:
            return  # the event could not be recorded: unacked, so Slack delivers it again (maybe to another replica)
        if bolt_resp.status != 200:
            log.info("no listener for a %s envelope (%s): acked and ignored", req.type, _kind(req.payload))
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        await send_async_response(client, req, bolt_resp, start)


def _kind(payload: dict | None) -> str:
    if not isinstance(payload, dict):
        return "no payload"
    event = payload.get("event")
    if isinstance(event, dict):
        return f"event {event.get('type')}"
    return str(payload.get("type") or payload.get("command") or "unknown")


class _DropTokenNotice(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN in the environment is unused when a client is given: it is the same token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be unused" not in record.getMessage()


def _framework_logger() -> logging.Logger:
    """Bolt's logger, never below INFO: at DEBUG it logs every raw envelope, with whatever a person typed into
    the credentials modal or pasted into a question. (Left to itself, Bolt copies the root logger's level.)"""
    logger = logging.getLogger("slack_bolt.AsyncApp")
    logger.setLevel(max(logging.INFO, logger.getEffectiveLevel()))
    return logger


def build_app(client: AsyncWebClient) -> AsyncApp:
    bolt_logger = logging.getLogger("slack_bolt.AsyncApp")
    notice = _DropTokenNotice()
    bolt_logger.addFilter(notice)
    try:
        return AsyncApp(
            client=client,
            logger=_framework_logger(),
            ignoring_self_events_enabled=True,
            request_verification_enabled=False,
        )
    finally:
        bolt_logger.removeFilter(notice)
