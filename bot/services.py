"""The services as the Slack app runs them: skills/services.py's Services with the upper layers plugged in.

The agent and the reports take `skills.services.Services`; what they call upward is handed to them here: the
readiness table (it has the Slack and scheduled-report rows) and the Slack Web API client reports post with.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import aiohttp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.readiness import readiness_table
from settings import Settings
from skills.services import Services as CoreServices

__all__ = ["Services", "web_client"]


def web_client(token: str, base_url: str, session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """The Web API client: SLACK_API_URL as base, with retries on 429 (Retry-After), 5xx and connection errors.

    With `session`, every call shares its connection pool (whoever holds the client closes it); without, each call
    opens its own."""
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        session=session,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


@dataclass
class Services(CoreServices):
    def __post_init__(self) -> None:
        if self.readiness_table is None:
            self.readiness_table = partial(readiness_table, self)
        token = Settings.reveal(self.settings.slack_bot_token)
        if self.slack is None and token:
            self.slack = web_client(token, self.settings.slack_api_url)
