"""GitHub's HTTP surfaces: POST /github/webhook and GET /github/setup (only when SITREP_PUBLIC_URL is set).

Webhook: what can be checked before the body is read is checked first: a Content-Encoding (GitHub never
compresses a delivery) 415, no well-formed X-Hub-Signature-256 401, no X-GitHub-Event or X-GitHub-Delivery 400,
a Content-Length over 25 MB 413. The body is then read under the unauthenticated-body budget and hashed as it
arrives (bot/bodies.py); a wrong signature 401, nothing parsed or done. A repeated X-GitHub-Delivery is answered
202 and ignored; events sitrep acts on are answered 202 at once and handled in a background task; others 204; a
malformed body (not JSON, nested too deeply, missing fields) 400.

Setup: GitHub redirects here after an install with installation_id, setup_action and the `state` the install
link carried. The state is signed, expires, and is used once; it binds the install to the Slack admin who
opened the link. The installation is confirmed with the App JWT before it is linked, then the admin gets a DM.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from bot import after_reply
from bot.bodies import IDENTITY, BodyRefused, content_encoding, read_body
from bot.http_guard import guard_of
from bot.web_auth import digest_matches, hex_digest
from review.intake import handle_event
from review.pipeline import Notify, github_skill
from settings import Settings
from skills.base import SkillError
from skills.github.webhook import MalformedEvent, parse_event
from skills.services import Services

log = logging.getLogger(__name__)

STATE_TTL = timedelta(minutes=30)
MAX_PAYLOAD = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB (it sends none larger)
TASKS = after_reply.key("github")
NOTIFY: web.AppKey[Any] = web.AppKey("github_notify")
SERVICES_KEY = web.AppKey("github_services", Services)


def _state_signature(key: str, nonce: str) -> str:
    return hmac.new(key.encode(), f"github-setup:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


async def new_state(services: Services, team_id: str, slack_user: str) -> str:
    """A signed, single-use state for the install link, valid STATE_TTL, bound to the Slack admin."""
    key = Settings.reveal(services.settings.github_webhook_secret) or ""
    nonce = secrets.token_urlsafe(18)
    await services.storage.github.save_state(nonce, team_id, slack_user, datetime.now(UTC) + STATE_TTL)
    return f"{nonce}.{_state_signature(key, nonce)}"


def _page(title: str, message: str, status: int = 200) -> web.Response:
    body = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>sitrep: {html.escape(title)}</title></head>"
        f"<body style='font-family:sans-serif;max-width:40em;margin:4em auto'><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(message)}</p></body></html>"
    )
    return web.Response(text=body, status=status, content_type="text/html")


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
    after_reply.spawn(
        request.app, TASKS, handle_event(services, intake, notify if callable(notify) else None), "GitHub delivery"
    )
    return web.json_response({"ok": True}, status=202)


async def setup(request: web.Request) -> web.Response:
    services = request.app[SERVICES_KEY]
    q = request.query
    state = q.get("state", "")
    nonce, _, signature = state.partition(".")
    key = Settings.reveal(services.settings.github_webhook_secret) or ""
    if not nonce or not key or not hmac.compare_digest(signature.encode(), _state_signature(key, nonce).encode()):
        log.warning("GitHub setup callback with a missing or forged state refused")
        return _page("Link refused", "This link is not one sitrep made. Start again from Link GitHub in Slack.", 400)
    store = services.storage.github
    used = await store.use_state(nonce)
    if used is None:
        return _page("Link expired", "This link was already used or has expired. Start again from Link GitHub.", 400)
    team_id, slack_user = used
    if q.get("setup_action") == "request":
        return _page("Waiting for approval", "An organization owner must approve the install; then link it again.")
    try:
        installation_id = int(q.get("installation_id", ""))
    except ValueError:
        return _page("Link refused", "GitHub sent no installation id. Start again from Link GitHub.", 400)
    team = await services.teams.get(team_id)
    skill = await github_skill(services, team)
    if skill is None or not skill.configured:
        return _page("GitHub App not configured", "Set GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY, then retry.", 503)
    try:
        inst = await skill.client.installation(installation_id)
    except SkillError as exc:
        log.warning("GitHub setup: installation %s not confirmed: %s", installation_id, exc.one_line())
        return _page("Link refused", "GitHub does not know this installation of the App. Nothing was linked.", 400)
    account = str((inst.get("account") or {}).get("login") or "")
    await store.link(team_id, installation_id, account, f"slack:{slack_user}")
    notify = request.app[NOTIFY]
    if callable(notify):
        text = (
            f"GitHub linked: the App is installed on *{account}* (installation {installation_id}). "
            "Open Link GitHub on the Home tab to pick the repositories to review and the channel for PR notes."
        )
        try:
            await notify(slack_user, text)
        except Exception:
            log.exception("the DM about the GitHub link failed")
    return _page("GitHub linked", f"sitrep is linked to the App's installation on {account}. Back to Slack.")


def add_github_routes(app: web.Application, services: Services, notify: Notify | None) -> None:
    """The two routes, only with SITREP_PUBLIC_URL (without one GitHub cannot reach us: polling instead)."""
    app[SERVICES_KEY] = services
    app[NOTIFY] = notify
    after_reply.install(app, TASKS)
    if not services.settings.public_url:
        return
    app.router.add_post("/github/webhook", webhook)
    app.router.add_get("/github/setup", setup)


async def running_tasks(app: web.Application) -> None:
    """Wait for the background work of the deliveries answered so far (tests, shutdown)."""
    await after_reply.running(app, TASKS)


def slack_notifier(services: Services) -> Notify | None:
    """chat.postMessage to a channel or a user id (a DM), or None without a bot token."""
    client = services.slack
    if client is None:
        return None

    async def notify(channel: str, text: str) -> None:
        redacted = text
        for secret in await services.secrets():
            if secret and len(secret) >= 6:
                redacted = redacted.replace(secret, "[redacted]")
        await client.chat_postMessage(channel=channel, text=redacted, unfurl_links=False)

    return notify
