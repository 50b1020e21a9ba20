"""Bolt listeners, one module per Slack surface; `register` wires them all."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp

from bot.services import Services
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
    mentions,
    messages,
    report,
    schedule,
    shortcuts,
)


def register(app: AsyncApp, services: Services) -> None:
    dedupe.register(app, services)
    mentions.register(app, services)
    alerts.register(app, services)  # before messages: Bolt runs the first matching `message` listener only
    messages.register(app, services)
    alert_settings.register(app, services)
    home.register(app, services)
    commands.register(app, services)
    shortcuts.register(app, services)
    credentials.register(app, services)
    feedback.register(app, services)
    report.register(app, services)
    schedule.register(app, services)
    config.register(app, services)
    github.register(app, services)

    @app.error
    async def on_error(error: Exception, body: dict, logger: logging.Logger) -> None:
        logger.exception("listener failed on %s: %s", body.get("type"), error)
