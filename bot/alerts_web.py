"""POST /alerts/grafana and POST /alerts/alertmanager: alert webhooks, investigated in Slack (alerts/desk.py).

Authenticated with SITREP_ALERTS_TOKEN, sent as `Authorization: Bearer <token>` (Grafana's webhook contact point:
Authorization header scheme Bearer; Alertmanager: `http_config.authorization.credentials`), or as Grafana's HMAC
signature (the webhook's "HMAC signature" with the token as secret: hex SHA-256 HMAC of the body in
X-Grafana-Alerting-Signature). Off (503) without a token; a missing or wrong one 401, before the body is parsed.
The whole body is read (bot/bodies.py), then: not JSON or not a notification 400 (saying what could be read),
no channel 400, else 202 at once and the investigation in a background task. The channel: `?channel=C…`, else
the team's `alerts.channel`. sitrep posts the alert there and the investigation in its thread.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any, Literal

from aiohttp import web

from alerts.model import Unreadable
from alerts.parse import parse_webhook
from bot import after_reply
from bot.bodies import BodyRefused, read_body
from bot.runtime import Runtime
from settings import Settings
from storage.team_config import check_channel

log = logging.getLogger(__name__)

MAX_PAYLOAD = 4 * 1024 * 1024
SIGNATURE_HEADER = "X-Grafana-Alerting-Signature"
RUNTIME_KEY = web.AppKey("alerts_runtime", Runtime)
TASKS = after_reply.key("alerts")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def authorized(headers: Any, body: bytes, token: str) -> bool:
    scheme, _, given = str(headers.get("Authorization", "")).partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return True
    signature = str(headers.get(SIGNATURE_HEADER, "")).strip().lower()
    expected = hmac.new(token.encode(), body, hashlib.sha256).hexdigest()
    return bool(signature) and hmac.compare_digest(signature.encode(), expected.encode())


def _handler(sender: Literal["grafana", "alertmanager"]) -> Any:
    async def receive(request: web.Request) -> web.Response:
        runtime = request.app[RUNTIME_KEY]
        services = runtime.services
        token = Settings.reveal(services.settings.alerts_token)
        if not token:
            return _error(503, "alert webhooks are off: set SITREP_ALERTS_TOKEN")
        try:
            body = (await read_body(request, MAX_PAYLOAD)).data
        except BodyRefused as exc:
            return _error(exc.status, exc.message)
        if not authorized(request.headers, body, token):
            log.warning("alert webhook with a missing or wrong token refused")
            return _error(401, "missing or wrong token (Authorization: Bearer $SITREP_ALERTS_TOKEN)")
        try:
            payload = json.loads(body or b"null")
        except ValueError as exc:
            return _error(400, f"the body is not JSON: {exc}")
        notification = parse_webhook(payload, sender)
        if isinstance(notification, Unreadable):
            return _error(400, f"not a {sender} notification sitrep can read: {notification.what}")
        team = await services.team_for(None)
        channel = request.query.get("channel") or team.config.alerts.channel
        try:
            check_channel(channel)
        except ValueError as exc:
            return _error(400, str(exc))
        if not channel:
            return _error(400, "no channel: add ?channel=C… to the URL or set alerts.channel")
        desk = runtime.alert_desk()
        if desk is None:
            return _error(503, "sitrep has no Slack bot token to post with")
        after_reply.spawn(request.app, TASKS, desk.handle(team, notification, channel=channel), "alert investigation")
        return web.json_response({"ok": True, "alerts": len(notification.alerts)}, status=202)

    return receive


def add_alert_routes(app: web.Application, runtime: Runtime) -> None:
    app[RUNTIME_KEY] = runtime
    after_reply.install(app, TASKS)
    app.router.add_post("/alerts/grafana", _handler("grafana"))
    app.router.add_post("/alerts/alertmanager", _handler("alertmanager"))


async def running_tasks(app: web.Application) -> None:
    """Wait for the investigations of the notifications answered so far (tests)."""
    await after_reply.running(app, TASKS)
