"""The Slack Web API client, built here once (`web_client`), and what a Slack error says (`error_of`).

The client every listener, view and check uses retries connection errors, 429s (after Retry-After) and every 5xx
a couple of times (slack_sdk's own server-error handler retries only 500 and 503; a proxy in front of Slack answers
502 and 504 too). Posts and edits do not use those retries: bot/poster.py sends them with `sender_client`, the
same connection pool without retry handlers, and paces and retries them itself.

A Slack error is not always JSON: a proxy's HTML 502, a text/plain 405. slack_sdk then hands back a response whose
data is `{}`, a str, or the raw aiohttp response; `error_of` reads any of them.
"""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

RETRIES = 2


class AnyServerErrorRetryHandler(AsyncRetryHandler):
    """Retries every 5xx answer (slack_sdk's AsyncServerErrorRetryHandler: only 500 and 503)."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and 500 <= response.status_code < 600


def web_client(token: str, base_url: str, session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """The Web API client: SLACK_API_URL as base, with retries on 429 (Retry-After), 5xx and connection errors.

    With `session`, every call shares its connection pool (whoever holds the client closes it); without, each call
    opens its own."""
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        session=session,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=RETRIES),
            AsyncRateLimitErrorRetryHandler(max_retry_count=RETRIES),
            AnyServerErrorRetryHandler(max_retry_count=RETRIES),
        ],
    )


def sender_client(client: AsyncWebClient) -> AsyncWebClient:
    """The poster's view of `client`: same token, URL and connection pool, no retry handlers (the poster paces,
    honours Retry-After and retries through its outbox, so a 429 is seen, not slept on inside a call)."""
    return AsyncWebClient(
        token=client.token,
        base_url=client.base_url,
        session=client.session,
        timeout=client.timeout,
        retry_handlers=[],
    )


async def identity(client: AsyncWebClient) -> tuple[dict | None, str]:
    """auth.test's answer, or (None, what went wrong): for a command line that reports rather than raises."""
    try:
        data = (await client.auth_test()).data
    except SlackApiError as exc:
        return None, error_of(exc)
    except OSError as exc:
        return None, str(exc) or type(exc).__name__
    return (dict(data) if isinstance(data, dict) else None), ""


def status_of(exc: SlackApiError) -> int | None:
    response = exc.response
    status = getattr(response, "status_code", None)
    if status is None:
        status = getattr(response, "status", None)  # the raw aiohttp response of a body that was not JSON
    return status if isinstance(status, int) else None


def error_of(exc: SlackApiError) -> str:
    """Slack's error code (`not_in_channel`, `ratelimited`…), or `http_<status>` when the answer carried none (a body
    that is not JSON: an HTML 502 from a proxy, a text/plain 405), or `unknown_error`."""
    data = getattr(exc.response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    status = status_of(exc)
    return f"http_{status}" if status and status != 200 else "unknown_error"


def retry_after(exc: SlackApiError, default: float = 1.0) -> float:
    """Seconds from the Retry-After header of a 429 (whole seconds, as Slack sends them), else `default`."""
    headers = getattr(exc.response, "headers", None) or {}
    for key, value in dict(headers).items():
        if str(key).lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                return default
    return default
