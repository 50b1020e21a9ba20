"""Every scheduler test that opens a database runs on SQLite and on PostgreSQL (directly and through PgBouncer);
`store` is the job store with the default team's seeded jobs."""

from __future__ import annotations

import pytest

from storage.db import Database
from storage.jobs import JobStore
from storage.teams import DEFAULT_TEAM_ID
from tests.support.environment import BACKENDS
from tests.support.scheduling import CHANNEL, LA, open_db


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Every test here runs on SQLite and on PostgreSQL."""
    return str(request.param)


@pytest.fixture
async def db(db_target: str):
    database = await open_db(db_target)
    yield database
    await database.close()


@pytest.fixture
async def store(db: Database) -> JobStore:
    store = JobStore(db)
    await store.seed_defaults(DEFAULT_TEAM_ID, CHANNEL, LA)
    return store
