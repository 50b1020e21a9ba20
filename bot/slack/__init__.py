"""Bolt listeners, one module per Slack surface; `register` wires them all.

Every listener is a module-level function (a test can call it directly); the Runtime (bot/runtime.py) reaches it
through Bolt's context, put there by bot/slack/context.py's middleware, installed first. Each module's
`register(app)` only attaches its listeners, and the order below is the order Bolt tries them in.
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp

from bot.runtime import Runtime
from bot.slack import (
    alert_settings,
    alerts,
    commands,
    config,
    credentials,
    dedupe,
    feedback,
    github,
    home,
    instrument,
    mentions,
    messages,
    report,
    schedule,
    shortcuts,
)
from bot.slack.context import Provide


async def on_error(error: Exception, body: dict, logger: logging.Logger) -> None:
    logger.exception("listener failed on %s: %s", body.get("type"), error)


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.use(Provide(runtime))  # first: every middleware, matcher and listener after it reads the Runtime
    dedupe.register(app)  # each event recorded (and a repeated one dropped) before anything handles it
    mentions.register(app)
    alerts.register(app)  # before messages: Bolt runs the first matching `message` listener only
    messages.register(app)
    alert_settings.register(app)
    home.register(app)
    commands.register(app)
    shortcuts.register(app)
    credentials.register(app)
    feedback.register(app)
    report.register(app)
    schedule.register(app)
    config.register(app)
    github.register(app)
    instrument.register(app)
    app.error(on_error)
