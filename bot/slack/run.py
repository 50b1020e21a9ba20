"""Connect to Slack over Socket Mode, serve until SIGINT/SIGTERM, then close everything within 5 s."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.runtime import Runtime, no_slack_connection
from bot.slack import register
from bot.slack.replies import ANSWERS
from bot.slack.socket import AckingSocketModeHandler, build_app
from bot.slack_client import error_of
from settings import Settings, StartupError

log = logging.getLogger(__name__)

SHUTDOWN_S = 5.0


async def connect(runtime: Runtime) -> AckingSocketModeHandler:
    services = runtime.services
    settings = services.settings
    app_token = Settings.reveal(settings.slack_app_token)
    client = runtime.slack
    assert client is not None and app_token, "serve() runs only with both Slack tokens set"
    try:
        identity = await client.auth_test()
    except SlackApiError as exc:
        raise StartupError(
            f"SLACK_BOT_TOKEN was rejected by Slack ({error_of(exc)}): copy the Bot User OAuth Token "
            "(xoxb-…) from your app's OAuth & Permissions page and reinstall the app if it was revoked"
        ) from None
    except (aiohttp.ClientError, OSError) as exc:
        raise StartupError(f"could not reach Slack at {settings.slack_api_url} ({exc}); check SLACK_API_URL") from None
    runtime.slack_identity = dict(identity.data) if isinstance(identity.data, dict) else None
    try:
        # slack_sdk's connect loop retries a rejected app token forever: ask for the first URL ourselves.
        opened = await client.apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        raise StartupError(
            f"SLACK_APP_TOKEN was rejected by Slack ({error_of(exc)}): create an app-level token with "
            "the connections:write scope (Basic Information → App-Level Tokens) and enable Socket Mode"
        ) from None
    app = build_app(client)
    register(app, runtime)
    handler = AckingSocketModeHandler(app, app_token)
    handler.client.wss_uri = opened["url"]
    await handler.connect_async()
    runtime.slack_connected = handler.client.is_connected  # the live websocket's state, reconnects included (/readyz)
    log.info("connected to Slack as @%s (%s)", identity.get("user"), identity.get("team"))
    return handler


async def serve(
    runtime: Runtime,
    *,
    on_connected: Callable[[], Awaitable[None]] | None = None,
    stop: asyncio.Event | None = None,
    before_connect: Callable[[], Awaitable[None]] | None = None,
) -> int:
    """Run until `stop` is set or a signal arrives. Raises StartupError on bad tokens. `before_connect` runs first
    (the web server, so /healthz and /readyz answer while Slack is being reached); `on_connected` once connected."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
        except (NotImplementedError, RuntimeError):  # not the main thread
            pass
    try:
        if before_connect is not None:
            await before_connect()
        handler = await connect(runtime)
    except BaseException:
        for sig in handled:
            loop.remove_signal_handler(sig)
        raise
    try:
        if on_connected is not None:
            await on_connected()
        await stop.wait()
        log.info("shutting down")
    finally:
        runtime.slack_connected = no_slack_connection  # not ready from here on, whatever the socket says
        try:
            await asyncio.wait_for(handler.close_async(), SHUTDOWN_S / 2)
        except (TimeoutError, Exception):
            log.warning("closing the Slack connection did not finish cleanly")
        # no new events now; let the answers under way post and record (the Supervisor stops what is left)
        if not await runtime.supervisor.settle(ANSWERS, SHUTDOWN_S / 2):
            cut = len(runtime.supervisor.running(ANSWERS))
            log.warning("%d answer(s) were still being worked on at shutdown", cut)
        for sig in handled:
            loop.remove_signal_handler(sig)
    return 0
