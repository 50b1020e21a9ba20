"""One Loki push over HTTP: the push JSON posted with basic auth, 429/5xx and connection errors retried with backoff
(Retry-After honoured), and what came of it. One httpx client, rebuilt when the endpoint or credentials change."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from skills.http import make_client, retry_after_seconds
from skills.vercel_drain.config import DrainConfig

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
JSON = {"Content-Type": "application/json"}
SPILL_STATUSES = RETRY_STATUSES | {401, 403, 404}  # keeps failing until Loki or the credentials are fixed


@dataclass(frozen=True)
class PushOutcome:
    ok: bool
    status: int | None
    message: str = ""  # bounded, for the status
    text: str = ""  # Loki's whole answer, read for what a 400 refused

    @property
    def spill(self) -> bool:
        return not self.ok and (self.status is None or self.status in SPILL_STATUSES)


class LokiPush:
    def __init__(self, backoff: float, max_backoff: float) -> None:
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._client: httpx.AsyncClient | None = None
        self._client_key: tuple[str | None, str | None, str | None] = (None, None, None)

    async def _http(self, config: DrainConfig) -> httpx.AsyncClient:
        key = (config.endpoint, config.push_user.value, config.push_token.value)
        if self._client is None or key != self._client_key:
            if self._client is not None:
                await self._client.aclose()
            auth = (config.push_user.value or "", config.push_token.value or "")
            self._client = make_client("", auth=auth, timeout=httpx.Timeout(10.0, connect=5.0))
            self._client_key = key
        return self._client

    async def push(self, config: DrainConfig, body: bytes, attempts: int) -> PushOutcome:
        if not config.can_push:
            missing = ", ".join(config.missing()[:3])
            return PushOutcome(False, None, f"nowhere to push: {missing} not set")
        client = await self._http(config)
        outcome = PushOutcome(False, None)
        for attempt in range(attempts):
            response: httpx.Response | None = None
            try:
                response = await client.post(config.endpoint or "", content=body, headers=JSON)
            except httpx.HTTPError as exc:
                outcome = PushOutcome(False, None, f"no connection to {config.endpoint} ({type(exc).__name__})")
            else:
                if response.is_success:
                    return PushOutcome(True, response.status_code)
                text = response.text
                outcome = PushOutcome(False, response.status_code, text.strip()[:300], text)
                if response.status_code not in RETRY_STATUSES:
                    return outcome
            if attempt + 1 < attempts:
                default = self.backoff * 2**attempt
                wait = retry_after_seconds(response, default) if response is not None else default
                await asyncio.sleep(min(wait, self.max_backoff))
        return outcome

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
