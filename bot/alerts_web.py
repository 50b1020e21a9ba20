"""POST /alerts/grafana and POST /alerts/alertmanager: alert webhooks, investigated in Slack (alerts/desk.py).

Authenticated with SITREP_ALERTS_TOKEN, either way:

- `Authorization: Bearer <token>` (Grafana's webhook contact point: Authorization header scheme Bearer;
  Alertmanager: `http_config.authorization.credentials`), checked before the body is read;
- Grafana's HMAC signature (the webhook's `hmac_config` with the token as secret,
  https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/):
  the hex SHA-256 HMAC of the body in the header the team names in `alerts.signature_header` (unset: Grafana's
  default, spelled X-Grafana-Alerting-Signature or X-Grafana-Alert-Signature across versions). With
  `alerts.timestamp_header` set (Grafana's `timestamp_header`), the signature covers `<timestamp>:<body>`, the
  timestamp is Unix seconds, and one more than MAX_SKEW away from now is refused, so a captured delivery cannot be
  replayed later. The header's shape and the timestamp are checked before the body is read; the body is then read
  under the unauthenticated-body budget and hashed as it arrives.

Off (503) without a token; a missing or wrong one 401, before anything is parsed. `?channel=` must be a channel
id (C… or G…), checked before the body is read too. Then: not JSON, nested too deeply, or not a notification 400
(saying what could be read), no channel 400, else every alert is recorded in the store (with sitrep's post of it
handed to the poster) and then 202: an accepted alert survives a crash, a restart and a dead replica
(alerts/desk.py); a database that does not answer is a 503, so the sender retries. The investigations follow in the
background, most severe first. The channel: `?channel=C…`, else the team's `alerts.channel`. sitrep posts the alert
there (many at once: one grouped message) and the investigation in its thread.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal

from aiohttp import web

from alerts.model import Unreadable
from alerts.parse import parse_webhook
from bot.bodies import BodyRefused, read_body
from bot.http_guard import guard_of
from bot.runtime import Runtime
from bot.web_auth import bearer, bearer_ok, digest_matches, hex_digest
from settings import Settings
from storage.db import DatabaseUnavailable
from storage.team_config import AlertsConfig
from text.json_in import NotJSON, loads

log = logging.getLogger(__name__)

MAX_PAYLOAD = 4 * 1024 * 1024
SIGNATURE_HEADERS = ("X-Grafana-Alerting-Signature", "X-Grafana-Alert-Signature")
MAX_SKEW_S = 300  # a signed timestamp older (or further ahead) than this is refused
WEBHOOK_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,20}$")  # a channel (public C…, private G…), never a DM
RUNTIME_KEY = web.AppKey("alerts_runtime", Runtime)
UNAUTHORIZED = "missing or wrong token (Authorization: Bearer $SITREP_ALERTS_TOKEN, or Grafana's HMAC signature)"


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


class Unauthorized(Exception):
    pass


def signature_mac(headers: Mapping[str, str], token: str, config: AlertsConfig, now: float) -> tuple[hmac.HMAC, str]:
    """(the HMAC to feed the body into, the signature to match) for a request without a bearer token; raises
    Unauthorized when the signature or its timestamp is missing, malformed or stale."""
    names = (config.signature_header,) if config.signature_header else SIGNATURE_HEADERS
    given = next((hex_digest(headers.get(name), 64) for name in names if headers.get(name)), None)
    if given is None:
        raise Unauthorized("no well-formed signature")
    mac = hmac.new(token.encode(), digestmod=hashlib.sha256)
    if config.timestamp_header:
        stamp = str(headers.get(config.timestamp_header) or "").strip()
        if not stamp.isdigit() or len(stamp) > 12:
            raise Unauthorized("no timestamp")
        if abs(now - int(stamp)) > MAX_SKEW_S:
            raise Unauthorized("a stale timestamp")
        mac.update(f"{stamp}:".encode())
    return mac, given


def authorized(headers: Mapping[str, str], body: bytes, token: str, config: AlertsConfig | None = None) -> bool:
    """The whole check on a body in hand (tests, and any caller outside the web route)."""
    if bearer_ok(headers, token):
        return True
    try:
        mac, given = signature_mac(headers, token, config or AlertsConfig(), time.time())
    except Unauthorized:
        return False
    mac.update(body)
    return digest_matches(mac.hexdigest(), given)


def _handler(sender: Literal["grafana", "alertmanager"]) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def receive(request: web.Request) -> web.Response:
        runtime = request.app[RUNTIME_KEY]
        services = runtime.services
        tally = guard_of(request.app).tally
        token = Settings.reveal(services.settings.alerts_token)
        if not token:
            return _error(503, "alert webhooks are off: set SITREP_ALERTS_TOKEN")
        team = await services.team_for(None)
        mac: hmac.HMAC | None = None
        given = None
        if bearer(request.headers) is not None:
            if not bearer_ok(request.headers, token):
                tally.note("unauthenticated", "refused alert webhooks with a wrong bearer token")
                return _error(401, UNAUTHORIZED)
        else:
            try:
                mac, given = signature_mac(request.headers, token, team.config.alerts, time.time())
            except Unauthorized as why:
                tally.note("unauthenticated", f"refused alert webhooks with {why}")
                return _error(401, UNAUTHORIZED)
        query_channel = request.query.get("channel")
        if query_channel is not None and not WEBHOOK_CHANNEL.match(query_channel):
            return _error(400, f"?channel= takes a channel id (C… or G…, like C0ADZHLL76V), not {query_channel[:40]!r}")
        try:
            body = await read_body(
                request, MAX_PAYLOAD, authenticated=mac is None, data_digests=[mac] if mac is not None else ()
            )
        except BodyRefused as exc:
            return _error(exc.status, exc.message, exc.headers)
        if mac is not None and not digest_matches(mac.hexdigest(), given):
            tally.note("unauthenticated", "refused alert webhooks with a wrong signature")
            return _error(401, UNAUTHORIZED)
        try:
            payload = loads(body.data or b"null")
        except NotJSON as exc:
            return _error(400, str(exc))
        notification = parse_webhook(payload, sender)
        if isinstance(notification, Unreadable):
            return _error(400, f"not a {sender} notification sitrep can read: {notification.what}")
        channel = query_channel or team.config.alerts.channel
        if not channel:
            return _error(400, "no channel: add ?channel=C… to the URL or set alerts.channel")
        desk = runtime.alert_desk()
        if desk is None:
            return _error(503, "sitrep has no Slack bot token to post with")
        try:
            accepted = await desk.accept(team, notification, channel=channel)
        except DatabaseUnavailable as exc:  # not recorded: the sender retries a 5xx
            log.warning("an alert webhook could not be recorded (%s)", exc)
            return _error(503, "sitrep's database is not answering; the alert was not recorded: retry")
        return web.json_response({"ok": True, "alerts": accepted}, status=202)

    return receive


def add_alert_routes(app: web.Application, runtime: Runtime) -> None:
    app[RUNTIME_KEY] = runtime
    app.router.add_post("/alerts/grafana", _handler("grafana"))
    app.router.add_post("/alerts/alertmanager", _handler("alertmanager"))
