"""The composition root: everything sitrep is made of, built once, in one place, and closed in reverse.

    async with opened(settings) as runtime:      # every command of app.py: run, shell, status, config, report
        ...

In dependency order, on one exit stack: the storage, each team's skills, the model client and the app's one
Supervisor (agent/services.py `Services`, closed last: its background work stops before its clients close and
the database last of all); then what talks to Slack (bot/runtime.py `Runtime`: the Web API client on one
connection pool, the poster, the alert desk; their background work is stopped before that pool closes). What runs
only while connected (the web server, the relay, the heartbeat, the scheduler, the poller) is started and stopped
by bot/background.py on the same Runtime.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import aiohttp

from agent.services import Services
from bot.runtime import Runtime
from bot.slack_client import web_client
from settings import Settings
from skills.registry import default_factories
from storage.services import open_storage


@asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[Runtime]:
    """The app's parts for `settings`; raises StartupError (one line) when the store cannot be opened."""
    async with AsyncExitStack() as stack:
        services = Services(settings, await open_storage(settings), default_factories())
        stack.push_async_callback(services.close)
        client = None
        if token := Settings.reveal(settings.slack_bot_token):
            session = await stack.enter_async_context(aiohttp.ClientSession())
            client = web_client(token, settings.slack_api_url, session=session)
        runtime = Runtime(services, slack_client=client)
        stack.push_async_callback(runtime.close)  # the sender and the investigators stop before the pool closes
        yield runtime
