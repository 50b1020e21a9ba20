"""The relay's tests run on SQLite and on PostgreSQL (its inbox and spill tables); `drain` is POST /drains/vercel
served for real in front of a relay pushing to `loki`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from agent.services import Services
from bot.background import start_relay
from settings import Settings
from tests.fakes.loki import FakeLoki
from tests.support.drain_world import FAST, Drain, drain_env, serve
from tests.support.environment import BACKENDS


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The relay and its spill table on SQLite and on PostgreSQL."""
    return str(request.param)


@pytest.fixture
async def loki() -> AsyncIterator[FakeLoki]:
    async with FakeLoki() as fake:
        yield fake


@pytest.fixture
async def drain(services: Services, loki: FakeLoki, env: dict[str, str]) -> AsyncIterator[Drain]:
    services = replace(services, settings=Settings.from_env({**env, **drain_env(loki), "SITREP_HTTP_PORT": "0"}))
    relay = await start_relay(services, FAST)
    async for d in serve(services, relay, loki):
        yield d
