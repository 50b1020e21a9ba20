"""The app served in-process by the same `serve` as `python app.py`, connected to the local Slack double."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from agent.services import Services
from bot.runtime import Runtime
from bot.slack.run import serve
from settings import Settings
from tests.fakes.slack import FakeSlack


def slack_settings(env: dict[str, str], slack: FakeSlack, **extra: str) -> Settings:
    """`env` with both Slack tokens and SLACK_API_URL of the local Slack (and `extra`)."""
    tokens = {"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_APP_TOKEN": slack.app_token, "SLACK_API_URL": slack.api_url}
    return Settings.from_env({**env, **tokens, **extra})


@dataclass
class Served:
    stop: asyncio.Event
    task: asyncio.Task[int]


@asynccontextmanager
async def served(services: Services, slack: FakeSlack, *, stop_within: float = 5.0) -> AsyncIterator[Served]:
    """`serve` running until the block ends (connected to `slack` when it starts); then stopped, and `services`
    closed."""
    stop = asyncio.Event()
    task = asyncio.create_task(serve(Runtime(services), stop=stop))
    try:
        await slack.wait_connected()
        yield Served(stop, task)
    finally:
        stop.set()
        await asyncio.wait_for(task, stop_within)
        await services.close()
