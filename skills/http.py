"""One httpx client per integration, and one way to send through it: `make_client` (sitrep's User-Agent, JSON,
no redirects, a bounded pool) and `send` (retries with backoff on 429/5xx and connection errors for idempotent
requests only, honouring Retry-After as a number of seconds or an HTTP date, every attempt counted in
sitrep_upstream_requests)."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

import metrics

log = logging.getLogger(__name__)

USER_AGENT = "sitrep/0.1 (+https://github.com/sitrep)"
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)


RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def make_client(
    base_url: str,
    *,
    headers: dict[str, str] | None = None,
    auth: httpx.Auth | tuple[str, str] | None = None,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
) -> httpx.AsyncClient:
    all_headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    all_headers.update(headers or {})
    return httpx.AsyncClient(
        base_url=base_url,
        headers=all_headers,
        auth=auth,
        timeout=timeout,
        follow_redirects=False,
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
    )


def retry_after_seconds(response: httpx.Response, default: float) -> float:
    value = response.headers.get("Retry-After")
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


@dataclass
class RetryPolicy:
    attempts: int = 3
    backoff: float = 0.5
    max_wait: float = 20.0
    statuses: frozenset[int] = field(default=RETRY_STATUSES)

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        base = self.backoff * (2**attempt) * (0.75 + random.random() / 2)
        if response is not None:
            base = retry_after_seconds(response, base)
        return min(base, self.max_wait)


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    policy: RetryPolicy | None = None,
    idempotent: bool | None = None,
    integration: str = "",
    **kwargs: Any,
) -> httpx.Response:
    """Send a request; retry 429/5xx and connection errors with backoff when the request is idempotent.

    Returns the last response (the caller maps statuses to SkillErrors); raises httpx.TransportError when
    every attempt failed to connect. Every attempt is counted in sitrep_upstream_requests under `integration`
    (default: the client's host).
    """
    integration = integration or client.base_url.host or "unknown"
    policy = policy or RetryPolicy()
    retryable = idempotent if idempotent is not None else method.upper() in IDEMPOTENT_METHODS
    attempts = policy.attempts if retryable else 1
    for attempt in range(attempts):
        try:
            response = await client.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ReadTimeout, httpx.ConnectTimeout, httpx.RemoteProtocolError):
            metrics.count_upstream(integration, None)
            if attempt + 1 >= attempts:
                raise
            await asyncio.sleep(policy.delay(attempt, None))
            continue
        except httpx.HTTPError:
            metrics.count_upstream(integration, None)
            raise
        metrics.count_upstream(integration, response.status_code)
        if response.status_code in policy.statuses and attempt + 1 < attempts:
            wait = policy.delay(attempt, response)
            log.info("%s %s -> %s; retrying in %.1fs", method, url, response.status_code, wait)
            await response.aclose()
            await asyncio.sleep(wait)
            continue
        return response
    raise AssertionError("unreachable")
