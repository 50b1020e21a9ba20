"""storage/pg_pooler.py: which SITREP_DB URLs go through a transaction pooler, and the URL asyncpg gets."""

import pytest

from storage.db import Database, DatabaseUnavailable
from storage.pg_pooler import BadPoolerFlag, pooler_choice


@pytest.mark.parametrize(
    ("url", "dsn", "pooled"),
    [
        ("postgresql://u:p@db:5432/sitrep?pgbouncer=true", "postgresql://u:p@db:5432/sitrep", True),
        ("postgresql://db/sitrep?sslmode=require&pgbouncer=1", "postgresql://db/sitrep?sslmode=require", True),
        ("postgresql://db/sitrep?PgBouncer=TRUE&sslmode=require", "postgresql://db/sitrep?sslmode=require", True),
        ("postgresql://db:6432/sitrep?pgbouncer=false", "postgresql://db:6432/sitrep", False),
        ("postgresql://db/sitrep", "postgresql://db/sitrep", False),
        ("postgresql://db:5432/sitrep?application_name=x", "postgresql://db:5432/sitrep?application_name=x", False),
    ],
)
def test_the_flag_decides_and_is_taken_off_the_url(url: str, dsn: str, pooled: bool) -> None:
    choice = pooler_choice(url)
    assert (choice.dsn, choice.pooled) == (dsn, pooled)


@pytest.mark.parametrize(
    ("url", "pooled"),
    [
        ("postgresql://sitrep@pgbouncer.internal:6432/sitrep", True),  # PgBouncer's default port
        ("postgresql://postgres.ref:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres", True),
        ("postgresql://u:pw@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/neondb", True),
        ("postgresql://u:pw@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb", False),
        ("postgresql://u@primary:5432,standby:6432/sitrep", True),  # any host of a fallback list
        ("postgresql://u@[::1]:6432/sitrep", True),
        ("postgresql://u@db/sitrep?port=6432", True),
        ("postgresql://u@db:5432/sitrep?port=6432", False),  # the host's own port wins
        ("postgresql://u@db.pooler.example:5432/sitrep", False),
    ],
)
def test_a_transaction_poolers_well_known_port_or_host_counts_as_pooled(url: str, pooled: bool) -> None:
    choice = pooler_choice(url)
    assert choice.pooled is pooled, choice.reason
    assert choice.dsn == url


def test_a_flag_neither_true_nor_false_is_refused_clearly() -> None:
    with pytest.raises(BadPoolerFlag, match=r"pgbouncer='maybe' is neither true nor false"):
        pooler_choice("postgresql://db/sitrep?pgbouncer=maybe")


async def test_opening_with_a_bad_flag_says_why_and_connects_nowhere() -> None:
    with pytest.raises(DatabaseUnavailable, match="neither true nor false"):
        await Database.open("postgresql://nobody@127.0.0.1:1/sitrep?pgbouncer=sometimes")
