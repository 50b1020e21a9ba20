"""The web server: the probes /healthz and /readyz (bot/probes.py), /metrics (Prometheus), the admin config API
(GET/PATCH /api/v1/config/me), the Vercel drain, and GitHub's webhook and setup callback (bot/github_web.py, with
SITREP_PUBLIC_URL).

Served under bot/http_guard.py's limits (connections, request heads, bodies, the unauthenticated-body budget),
so slow or big requests from strangers cannot hold the event loop, the memory or the connections."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

import metrics
from agent.services import Services
from bot import drain
from bot.alerts_web import add_alert_routes
from bot.bodies import BodyRefused, read_body
from bot.github_web import add_github_routes
from bot.http_guard import GUARD, Guard, GuardedSite, HttpLimits, request_clock
from bot.probes import healthz, readiness
from bot.runtime import Runtime
from bot.web_auth import bearer_ok
from settings import Settings
from storage.team_config import ConfigInvalid, unwrap_patch
from storage.teams import DEFAULT_TEAM_ID, Team, TeamNotFound
from text.json_in import NotJSON, loads

log = logging.getLogger(__name__)

SERVICES = web.AppKey("services", Services)
RUNTIME = web.AppKey("runtime", Runtime)
MAX_BODY = 256 * 1024


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def refused(exc: BodyRefused) -> web.Response:
    return web.json_response({"error": exc.message}, status=exc.status, headers=exc.headers)


async def _team(request: web.Request) -> Team:
    services = request.app[SERVICES]
    org = request.headers.get("X-Org-Id")
    node = request.headers.get("X-Team-Node-Id")
    if not org and not node:
        return await services.storage.teams.get(DEFAULT_TEAM_ID)
    if not org or not node:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "send both X-Org-Id and X-Team-Node-Id, or neither for the default team"}),
            content_type="application/json",
        )
    try:
        return await services.storage.teams.find(org, node)
    except TeamNotFound:
        raise web.HTTPNotFound(
            text=json.dumps({"error": f"no team {org}/{node}; this sitrep serves default/default"}),
            content_type="application/json",
        ) from None


@web.middleware
async def admin_auth(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path.startswith("/api/"):
        token = Settings.reveal(request.app[SERVICES].settings.admin_token)
        if not token:
            return _error(404, "the admin API is disabled: set SITREP_ADMIN_TOKEN to enable it")
        if not bearer_ok(request.headers, token):
            return _error(401, "missing or wrong bearer token (Authorization: Bearer $SITREP_ADMIN_TOKEN)")
    return await handler(request)


async def readyz(request: web.Request) -> web.Response:
    """200 when this replica can take work, else 503 with the reasons (bot/probes.py)."""
    ready, body = await readiness(request.app[RUNTIME])
    return web.json_response(body, status=200 if ready else 503)


async def metrics_page(request: web.Request) -> web.Response:
    """sitrep's own metrics in the Prometheus text format (docs/metrics.md)."""
    body, content_type = metrics.exposition()
    return web.Response(body=body, headers={"Content-Type": content_type})


async def get_config(request: web.Request) -> web.Response:
    team = await _team(request)
    return web.json_response({"org_id": team.org_id, "team_id": team.id, "config": team.config_document})


async def patch_config(request: web.Request) -> web.Response:
    team = await _team(request)
    try:
        raw = (await read_body(request, MAX_BODY)).data  # the bearer token was checked (admin_auth)
    except BodyRefused as exc:
        return refused(exc)
    try:
        body = loads(raw or b"null")
    except NotJSON as exc:
        return _error(400, str(exc))
    patch = unwrap_patch(body)
    try:
        updated = await request.app[SERVICES].storage.config.patch(team.id, patch, actor="admin-api")
    except ConfigInvalid as exc:
        return _error(422, "config not changed", problems=exc.problems)
    log.info("config of %s/%s patched through the admin API", team.org_id, team.id)
    return web.json_response({"org_id": updated.org_id, "team_id": updated.id, "config": updated.config_document})


def build_web_app(runtime: Runtime, github_notify: Any = None, limits: HttpLimits | None = None) -> web.Application:
    services = runtime.services
    app = web.Application(middlewares=[request_clock, admin_auth], client_max_size=MAX_BODY)
    app[GUARD] = Guard(limits or HttpLimits())
    app[SERVICES] = services
    app[RUNTIME] = runtime
    add_github_routes(app, services, github_notify)
    add_alert_routes(app, runtime)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_page)
    app.router.add_get("/api/v1/config/me", get_config)
    app.router.add_patch("/api/v1/config/me", patch_config)
    drain.register(app, lambda request: request.app[RUNTIME].drain)
    return app


async def start_web(runtime: Runtime, github_notify: Any = None, limits: HttpLimits | None = None) -> web.AppRunner:
    """Serve on SITREP_HTTP_HOST:SITREP_HTTP_PORT (port 0: any free port). The caller cleans up the runner."""
    app = build_web_app(runtime, github_notify, limits)
    guard = app[GUARD]
    runner = web.AppRunner(
        app,
        access_log=None,
        shutdown_timeout=2.0,
        # routes see the body as sent, so a signature over compressed bytes can be checked; bot/bodies.py
        # decodes it, bounded
        auto_decompress=False,
        # aiohttp's own idle timer, behind bot/http_guard.py's head and idle clocks
        keepalive_timeout=guard.limits.idle_s + guard.limits.head_s,
        lingering_time=2.0,  # what a refused body still sends is read and dropped this long, then the socket closes
    )
    await runner.setup()
    settings = runtime.services.settings
    site = GuardedSite(runner, settings.http_host, settings.http_port, guard)
    await site.start()
    return runner


def bound_port(runner: web.AppRunner) -> int | None:
    for address in runner.addresses:
        if isinstance(address, tuple):
            return int(address[1])
    return None
