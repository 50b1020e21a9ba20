"""storage/db.py on both backends: migrations, transactions, constraints, the SQL both dialects read alike."""

import asyncio
from pathlib import Path

import pytest

from storage.db import Database, migration_files, split_sql
from storage.sql import POSTGRESQL, SQLITE, sqlite_sql
from tests.support.environment import PGBOUNCER, STORE_BACKENDS


@pytest.fixture(params=STORE_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Every test here that opens a database runs on SQLite and on PostgreSQL, directly and through PgBouncer."""
    return str(request.param)


@pytest.fixture
async def db(db_target: str):
    database = await Database.open(db_target)
    yield database
    await database.close()


async def test_migrations_apply_once_and_are_recorded(db_target: str) -> None:
    db = await Database.open(db_target)
    first = [r["name"] for r in await db.fetchall("SELECT name FROM schema_migrations ORDER BY version")]
    assert first == [f.name for _, f in migration_files()]
    assert await db.migrate() == []  # a second run applies nothing
    await db.close()

    again = await Database.open(db_target)  # and neither does a restart
    rows = await again.fetchall("SELECT version FROM schema_migrations")
    assert len(rows) == len(first)
    await again.close()


async def test_replicas_starting_at_once_migrate_once_and_leave_no_lock_held(db_target: str) -> None:
    """Four replicas start together: one applies the migrations, the others wait and find nothing to do; and no
    lock outlives the migration (through a transaction pooler a session lock stays on whichever server connection
    took it, where the next client of that connection finds it already "held")."""
    opened = await asyncio.wait_for(asyncio.gather(*(Database.open(db_target) for _ in range(4))), timeout=60)
    try:
        rows = await opened[0].fetchall("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in rows] == [version for version, _ in migration_files()]
        if opened[0].backend == POSTGRESQL:
            held = await opened[0].fetchall(
                "SELECT objid FROM pg_locks WHERE locktype = 'advisory'"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
            assert held == []
    finally:
        for db in opened:
            await db.close()


async def test_sqlite_connection_uses_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "x.db")
    assert (await db.fetchone("PRAGMA journal_mode"))[0] == "wal"
    assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1
    assert (await db.fetchone("PRAGMA busy_timeout"))[0] >= 1000
    await db.close()


async def test_transaction_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO teams (id, name) VALUES ('t1', 'T1')")
            raise RuntimeError("boom")
    assert await db.fetchone("SELECT 1 FROM teams WHERE id = 't1'") is None


async def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO credentials (team_id, integration, name, ciphertext, updated_by) VALUES (?, ?, ?, ?, ?)",
                ("nope", "g", "n", b"\x00", "me"),
            )
    assert await db.fetchone("SELECT 1 FROM credentials") is None


async def test_cursor_reports_rowcount_and_lastrowid_alike(db: Database) -> None:
    async with db.transaction() as conn:
        first = await conn.execute("INSERT INTO audit_log (actor, action) VALUES (?, ?)", ("a", "one"))
        second = await conn.execute("INSERT INTO audit_log (actor, action) VALUES (?, ?)", ("a", "two"))
        assert (first.rowcount, second.rowcount) == (1, 1)
        assert second.lastrowid == first.lastrowid + 1
        ignored = await conn.execute(
            "INSERT INTO teams (id, name) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", ("t1", "a")
        )
        again = await conn.execute("INSERT OR IGNORE INTO teams (id, name) VALUES (?, ?)", ("t1", "b"))
        assert (ignored.rowcount, again.rowcount) == (1, 0)
        updated = await conn.execute("UPDATE audit_log SET detail = ? WHERE actor = ?", ("{}", "a"))
        assert updated.rowcount == 2
        async with conn.execute("SELECT action FROM audit_log WHERE id = ?", (second.lastrowid,)) as cur:
            assert (await cur.fetchone())["action"] == "two"
            assert await cur.fetchone() is None
    result = await db.execute("DELETE FROM audit_log WHERE action = ?", ("one",))
    assert result.rowcount == 1
    row = await db.fetchone("SELECT name FROM teams WHERE id = ?", ("t1",))
    assert row["name"] == row[0] == "a"


async def test_question_marks_in_literals_are_not_placeholders(db: Database) -> None:
    await db.execute("INSERT INTO audit_log (actor, action, detail) VALUES ('who?', ?, '{\"q\": \"it''s ?\"}')", ("x",))
    row = await db.fetchone("SELECT actor, detail FROM audit_log WHERE action = ? AND actor LIKE '%?'", ("x",))
    assert (row["actor"], row["detail"]) == ("who?", '{"q": "it\'s ?"}')


async def test_time_functions_give_the_same_text_on_both(db: Database) -> None:
    row = await db.fetchone(
        "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', ?) AS f, strftime('%Y-%m-%dT%H:%M:%SZ', ?, ?) AS s,"
        " datetime(?, ?) AS d, strftime('%s', ?) AS e",
        ("2026-03-09T15:00:00.250Z", "2026-03-09T15:00:00Z", "-25 hours", "2026-03-09T15:00:00Z", "+90 seconds",
         "2026-03-09T15:00:00Z"),
    )  # fmt: skip
    assert dict(zip(row.keys(), tuple(row), strict=True)) == {
        "f": "2026-03-09T15:00:00.250Z",
        "s": "2026-03-08T14:00:00Z",
        "d": "2026-03-09 15:01:30",
        "e": "1773068400",
    }
    now = await db.fetchone("SELECT strftime('%Y-%m-%dT%H:%M:%fZ','now') AS now")
    assert len(now["now"]) == len("2026-03-09T15:00:00.250Z") and now["now"].endswith("Z")


async def test_sums_are_plain_numbers_and_loose_parameters_are_converted(db: Database) -> None:
    await db.execute("INSERT INTO teams (id, name) VALUES (?, ?)", ("t1", "T1"))
    for n in (1, 2):
        await db.execute(
            "INSERT INTO answers (team_id, source, question, answer, planner, tokens_in) VALUES (?, ?, ?, ?, ?, ?)",
            ("t1", "mention", "q", "a", "rules", str(n * 10)),  # a str where an integer belongs, as SQLite allows
        )
    row = await db.fetchone("SELECT SUM(tokens_in) AS s, COUNT(*) AS n FROM answers WHERE tokens_in >= ?", ("10",))
    assert (row["s"], row["n"]) == (30, 2) and type(row["s"]) is int


async def test_skip_locked_queue_syntax_reads_on_both(db: Database) -> None:
    await db.execute("INSERT INTO audit_log (actor, action) VALUES ('a', 'queued')")
    async with db.transaction() as conn:
        async with conn.execute(
            "SELECT id FROM audit_log WHERE action = ? ORDER BY id LIMIT 5 FOR UPDATE SKIP LOCKED", ("queued",)
        ) as cur:
            assert len(await cur.fetchall()) == 1


def test_sqlite_drops_only_row_lock_clauses() -> None:
    assert sqlite_sql("SELECT id FROM q WHERE a = ? FOR UPDATE SKIP LOCKED") == "SELECT id FROM q WHERE a = ?"
    assert sqlite_sql("SELECT 'for update' FROM q") == "SELECT 'for update' FROM q"


async def test_backend_and_label_name_the_database(db: Database, backend: str) -> None:
    assert db.backend == (POSTGRESQL if backend == PGBOUNCER else backend)
    assert db.label.startswith({SQLITE: "SQLite ", POSTGRESQL: "PostgreSQL postgresql://"}[db.backend])
    assert await db.ping() >= 0


def test_split_sql_drops_comments_and_blank_statements() -> None:
    script = "-- a comment\nCREATE TABLE a (x INT);\n\n;CREATE TABLE b (y INT);\n"
    assert split_sql(script) == ["CREATE TABLE a (x INT)", "CREATE TABLE b (y INT)"]
