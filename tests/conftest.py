"""Fixtures shared by the suite: settings on a temporary database, opened storage, services."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from agent.services import Services
from settings import Settings
from skills.grafana.client import GrafanaClient
from skills.http import RetryPolicy
from storage.services import Storage, open_storage
from storage.sql import SQLITE
from tests.fakes.grafana import FakeGrafana
from tests.support.environment import APP_VARS, PGBOUNCER
from tests.support.pg_server import PgBouncer, PgServer


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in APP_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # so no developer's .env is read


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A real PostgreSQL server for the session (tests/support/pg_server.py)."""
    server = PgServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_bouncer(pg_server: PgServer) -> Iterator[PgBouncer]:
    """A real PgBouncer in transaction mode in front of the session's PostgreSQL (tests/support/pg_server.py)."""
    bouncer = PgBouncer(pg_server)
    yield bouncer
    bouncer.stop()


@pytest.fixture
def backend() -> str:
    """The database backend of `db_target` and `env`: SQLite, unless a module asks for both (`BACKENDS`)."""
    return SQLITE


@pytest.fixture
async def db_target(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """What SITREP_DB is set to: a SQLite file in tmp_path, or a fresh database on the session's PostgreSQL,
    reached directly or through its PgBouncer."""
    if backend == SQLITE:
        yield str(tmp_path / "sitrep.db")
        return
    if backend == PGBOUNCER:
        bouncer: PgBouncer = request.getfixturevalue("pg_bouncer")
        async with bouncer.database() as url:
            yield url
        return
    server: PgServer = request.getfixturevalue("pg_server")
    async with server.database() as url:
        yield url


@pytest.fixture
def env(db_target: str) -> dict[str, str]:
    """A minimal environment for a sitrep process: its own database and secret key."""
    return {"SITREP_DB": db_target, "SITREP_SECRET_KEY": Fernet.generate_key().decode()}


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return Settings.from_env(env)


@pytest.fixture
async def storage(settings: Settings) -> AsyncIterator[Storage]:
    st = await open_storage(settings)
    yield st
    await st.close()


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    svc = Services(settings=settings, storage=await open_storage(settings))
    yield svc
    await svc.close()


@pytest.fixture
async def grafana() -> AsyncIterator[FakeGrafana]:
    """A fresh fake Grafana (tests/fakes/grafana.py) on a loopback port."""
    async with FakeGrafana() as fake:
        yield fake


@pytest.fixture
async def client(grafana: FakeGrafana) -> AsyncIterator[GrafanaClient]:
    """A GrafanaClient for the fake, retrying without backoff."""
    async with GrafanaClient(grafana.url, grafana.token, policy=RetryPolicy(backoff=0.0)) as c:
        yield c
