"""Bolt listeners, one module per Slack surface; `register` wires them all.

Surfaces that answer, show readiness or change config take the Runtime (bot/runtime.py); the others its Services.
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


def register(app: AsyncApp, runtime: Runtime) -> None:
    services = runtime.services
    dedupe.register(app, runtime)
    mentions.register(app, runtime)
    alerts.register(app, runtime)  # before messages: Bolt runs the first matching `message` listener only
    messages.register(app, runtime)
    alert_settings.register(app, runtime)
    home.register(app, runtime)
    commands.register(app, runtime)
    shortcuts.register(app, runtime)
    credentials.register(app, runtime)
    feedback.register(app, services)
    report.register(app, runtime)
    schedule.register(app, runtime)
    config.register(app, runtime)
    github.register(app, runtime)
    instrument.register(app, runtime)

    @app.error
    async def on_error(error: Exception, body: dict, logger: logging.Logger) -> None:
        logger.exception("listener failed on %s: %s", body.get("type"), error)
