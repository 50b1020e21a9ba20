"""/healthz (alive) and /readyz (Slack connected, database answering, migrations applied), served for real on a
loopback port. The real Socket Mode connection's part: tests/e2e/test_probes_e2e.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from agent.services import Services
from bot import probes
from bot.runtime import Runtime
from bot.web import bound_port, start_web


@pytest.fixture
def runtime(services: Services) -> Runtime:
    services = replace(services, settings=services.settings.model_copy(update={"http_port": 0}))
    return Runtime(services)


@pytest.fixture
async def web(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    runner = await start_web(runtime)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{bound_port(runner)}") as client:
            yield client
    finally:
        await runner.cleanup()


def connected(runtime: Runtime) -> None:
    async def yes() -> bool:
        return True

    runtime.slack_connected = yes


async def test_healthz_answers_whatever_slack_and_the_database_do(web: httpx.AsyncClient, runtime: Runtime) -> None:
    await runtime.services.storage.db.close()
    response = await web.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"ok": True})


async def test_readyz_is_503_until_slack_is_connected(web: httpx.AsyncClient, runtime: Runtime) -> None:
    response = await web.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False and body["slack"] == {"connected": False}
    assert body["reasons"] == ["Slack: the Socket Mode connection is not open (connecting, or reconnecting)"]
    assert body["database"]["ok"] is True and body["database"]["pending_migrations"] == []


async def test_readyz_is_200_when_connected_with_the_database_up_to_date(
    web: httpx.AsyncClient, runtime: Runtime
) -> None:
    connected(runtime)
    response = await web.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["ready"], body["reasons"], body["slack"]) == (True, [], {"connected": True})
    assert body["database"]["backend"] == "sqlite" and body["database"]["ms"] >= 0


async def test_readyz_names_the_database_error(web: httpx.AsyncClient, runtime: Runtime) -> None:
    connected(runtime)
    await runtime.services.storage.db.close()
    response = await web.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"]["ok"] is False
    assert len(body["reasons"]) == 1 and body["reasons"][0].startswith("database: ")


async def test_readyz_names_a_migration_not_applied(web: httpx.AsyncClient, runtime: Runtime) -> None:
    connected(runtime)
    db = runtime.services.storage.db
    newest = (await db.fetchone("SELECT MAX(version) FROM schema_migrations"))[0]
    await db.execute("DELETE FROM schema_migrations WHERE version = ?", (newest,))
    response = await web.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    (pending,) = body["database"]["pending_migrations"]
    assert pending.startswith(f"{newest:04d}_") and pending.endswith(".sql")
    assert body["reasons"] == [f"database: 1 migration(s) not applied yet ({pending})"]


async def test_readyz_does_not_hang_on_a_database_that_does_not_answer(
    web: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    connected(runtime)
    never = asyncio.Event()

    async def hangs() -> list[str]:
        await never.wait()
        return []

    monkeypatch.setattr(runtime.services.storage.db, "pending_migrations", hangs)
    monkeypatch.setattr(probes, "DATABASE_TIMEOUT_S", 0.2)
    response = await web.get("/readyz")
    assert response.status_code == 503
    assert response.json()["reasons"] == ["database: no answer within 0.2 s"]


async def test_readyz_never_shows_a_secret_an_error_quotes(
    web: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probes answer anyone who reaches the port: a driver error quoting the key or a password is redacted."""
    secret = runtime.services.settings.secret_values()[0]  # SITREP_SECRET_KEY of the test environment

    async def fails() -> list[str]:
        raise ConnectionError(f"cannot connect to postgresql://sitrep:{secret}@db:5432/sitrep")

    monkeypatch.setattr(runtime.services.storage.db, "pending_migrations", fails)
    body = (await web.get("/readyz")).text
    assert secret not in body
    assert "postgresql://sitrep:[redacted]@db:5432/sitrep" in body
