"""The drain relay served for real (tests/skills/vercel_drain/, tests/bot/test_drain_gzip.py): POST /drains/vercel
on a started web server, the relay pushing to the fake Loki, and what the tests read back."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from agent.services import Services
from bot.runtime import Runtime
from bot.web import bound_port, start_web
from skills.base import Credential
from skills.vercel_drain import DrainConfig, Relay, RelayLimits
from skills.vercel_drain.readiness import assess
from skills.vercel_drain.status import RelayStatus
from tests.fakes.loki import FakeLoki
from tests.support.drain_support import DRAIN_SECRET, DRAIN_VERIFY, sign

FAST = RelayLimits(batch_wait=0.05, push_attempts=2, backoff=0.01, max_backoff=0.05, status_every=0.0)


@dataclass
class Drain:
    http: httpx.AsyncClient
    loki: FakeLoki
    relay: Relay
    services: Services

    async def post(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.http.post(
            "/drains/vercel", content=body, headers=headers if headers is not None else sign(body)
        )


def drain_env(loki: FakeLoki) -> dict[str, str]:
    return {
        "LOKI_PUSH_URL": loki.url,
        "LOKI_PUSH_USER": loki.user,
        "LOKI_PUSH_TOKEN": loki.token,
        "VERCEL_DRAIN_SECRET": DRAIN_SECRET,
        "VERCEL_DRAIN_VERIFY": DRAIN_VERIFY,
        "SITREP_PUBLIC_URL": "https://sitrep.mochacare.example",
    }


async def serve(services: Services, relay: Relay, loki: FakeLoki) -> AsyncIterator[Drain]:
    runner = await start_web(Runtime(services, drain=relay))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{bound_port(runner)}") as http:
            yield Drain(http, loki, relay, services)
    finally:
        await runner.cleanup()
        await relay.stop()


def spilled_at_least(n: int, status: RelayStatus) -> bool:
    return status.spilled_lines >= n


def ids(loki: FakeLoki) -> Counter[str]:
    return Counter(json.loads(line)["id"] for _, _, line in loki.lines())


def readiness(drain: Drain) -> str:
    """The drain's line on Grafana's readiness row (the Home tab and `status`), from the relay's own status."""
    config = DrainConfig(
        push_url=Credential(drain.loki.url, "LOKI_PUSH_URL"),
        push_user=Credential(drain.loki.user, "LOKI_PUSH_USER"),
        push_token=Credential(drain.loki.token, "LOKI_PUSH_TOKEN"),
        secret=Credential(DRAIN_SECRET, "VERCEL_DRAIN_SECRET"),
        verify=Credential(DRAIN_VERIFY, "VERCEL_DRAIN_VERIFY"),
        public_url="https://sitrep.mochacare.example",
    )
    return assess(config, drain.relay.status).summary
