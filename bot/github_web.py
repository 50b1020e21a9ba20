"""GitHub's HTTP surfaces: POST /github/webhook and GET /github/setup (only when SITREP_PUBLIC_URL is set).

Webhook: what can be checked before the body is read is checked first: a Content-Encoding (GitHub never
compresses a delivery) 415, no well-formed X-Hub-Signature-256 401, no X-GitHub-Event or X-GitHub-Delivery 400,
a Content-Length over 25 MB 413. The body is then read under the unauthenticated-body budget and hashed as it
arrives (bot/bodies.py); a wrong signature 401, nothing parsed or done. A repeated X-GitHub-Delivery is answered
202 and ignored; events sitrep acts on are answered 202 at once and handled in a background task; others 204; a
malformed body (not JSON, nested too deeply, missing fields) 400.

Setup: GitHub redirects here after an install with installation_id, setup_action and the `state` the install
link carried: bot/github_setup.py.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

from aiohttp import web

from agent.services import Services
from bot import github_setup
from bot.bodies import IDENTITY, BodyRefused, content_encoding, read_body
from bot.http_guard import guard_of
from bot.runtime import Runtime
from bot.web_auth import digest_matches, hex_digest
from review.intake import handle_event
from review.pipeline import Notify
from settings import Settings
from skills.base import redact
from skills.github.webhook import MalformedEvent, parse_event
from storage.poster import PRIORITY_REPORT

log = logging.getLogger(__name__)

MAX_PAYLOAD = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB (it sends none larger)
DELIVERIES = "github-deliveries"  # the Supervisor group of the work done after a delivery's 202
DRAIN_S = 5.0  # when the web server stops, how long that work may still run before the shutdown cancels it
NOTIFY: web.AppKey[Any] = web.AppKey("github_notify")
SERVICES_KEY = web.AppKey("github_services", Services)


def _json(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


async def webhook(request: web.Request) -> web.Response:
    services = request.app[SERVICES_KEY]
    secret = Settings.reveal(services.settings.github_webhook_secret)
    if not secret:
        return _json(503, "GITHUB_WEBHOOK_SECRET is not set on this sitrep")
    given = hex_digest(request.headers.get("X-Hub-Signature-256"), 64, prefix="sha256=")
    if given is None:
        guard_of(request.app).tally.note("unauthenticated", "refused GitHub webhooks without X-Hub-Signature-256")
        return _json(401, "missing or wrong X-Hub-Signature-256")
    event = request.headers.get("X-GitHub-Event", "")
    delivery = request.headers.get("X-GitHub-Delivery", "")
    if not event or not delivery:
        return _json(400, "X-GitHub-Event and X-GitHub-Delivery are required")
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)
    try:
        content_encoding(request, IDENTITY)  # GitHub signs and sends the payload uncompressed
        body = await read_body(request, MAX_PAYLOAD, authenticated=False, encodings=IDENTITY, data_digests=[mac])
    except BodyRefused as exc:
        return _json(exc.status, exc.message, exc.headers)
    if not digest_matches(mac.hexdigest(), given):
        guard_of(request.app).tally.note("unauthenticated", "refused GitHub webhooks with a wrong signature")
        return _json(401, "missing or wrong X-Hub-Signature-256")
    try:
        intake = parse_event(event, body.data, delivery)
    except MalformedEvent as exc:
        return web.json_response({"error": str(exc)}, status=400)
    if intake is None:
        return web.Response(status=204)
    if not await services.storage.github.first_delivery(delivery, event):
        log.info("GitHub delivery %s seen before: ignored", delivery)
        return web.json_response({"ok": True, "duplicate": True}, status=202)
    notify = request.app[NOTIFY]
    work = handle_event(services, intake, notify if callable(notify) else None)
    services.supervisor.spawn(work, f"GitHub delivery {delivery}", group=DELIVERIES)
    return web.json_response({"ok": True}, status=202)


async def setup(request: web.Request) -> web.Response:
    return await github_setup.setup(request, request.app[SERVICES_KEY], request.app[NOTIFY])


def add_github_routes(app: web.Application, services: Services, notify: Notify | None) -> None:
    """The two routes, only with SITREP_PUBLIC_URL (without one GitHub cannot reach us: polling instead)."""
    app[SERVICES_KEY] = services
    app[NOTIFY] = notify

    async def drain(app: web.Application) -> None:
        await app[SERVICES_KEY].supervisor.settle(DELIVERIES, timeout=DRAIN_S)

    app.on_cleanup.append(drain)
    if not services.settings.public_url:
        return
    app.router.add_post("/github/webhook", webhook)
    app.router.add_get("/github/setup", setup)


async def running_tasks(app: web.Application) -> None:
    """Wait for the background work of the deliveries answered so far (tests, shutdown)."""
    await app[SERVICES_KEY].supervisor.settle(DELIVERIES)


def slack_notifier(runtime: Runtime) -> Notify | None:
    """A post to a channel or a user id (a DM) through the Runtime's poster, or None without a bot token."""
    poster = runtime.poster()
    if poster is None:
        return None
    services = runtime.services

    async def notify(channel: str, text: str) -> None:
        redacted = redact(text, await services.secrets())
        await poster.sent(await poster.post(channel, redacted, priority=PRIORITY_REPORT))

    return notify
