from pathlib import Path

from storage.db import Database, migration_files, split_sql


async def test_migrations_apply_once_and_are_recorded(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    db = await Database.open(path)
    first = [r["name"] for r in await db.fetchall("SELECT name FROM schema_migrations ORDER BY version")]
    assert first == [f.name for _, f in migration_files()]
    assert await db.migrate() == []  # a second run applies nothing
    await db.close()

    again = await Database.open(path)  # and neither does a restart
    rows = await again.fetchall("SELECT version FROM schema_migrations")
    assert len(rows) == len(first)
    await again.close()


async def test_connection_uses_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "x.db")
    assert (await db.fetchone("PRAGMA journal_mode"))[0] == "wal"
    assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1
    assert (await db.fetchone("PRAGMA busy_timeout"))[0] >= 1000
    await db.close()


async def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "x.db")
    try:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO teams (id, name) VALUES ('t1', 'T1')")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert await db.fetchone("SELECT 1 FROM teams WHERE id = 't1'") is None
    await db.close()


async def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "x.db")
    import sqlite3

    try:
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO credentials (team_id, integration, name, ciphertext, updated_by)"
                " VALUES ('nope', 'g', 'n', x'00', 'me')"
            )
    except sqlite3.IntegrityError:
        pass
    else:
        raise AssertionError("a credential for a team that does not exist was stored")
    await db.close()


def test_split_sql_drops_comments_and_blank_statements() -> None:
    script = "-- a comment\nCREATE TABLE a (x INT);\n\n;CREATE TABLE b (y INT);\n"
    assert split_sql(script) == ["CREATE TABLE a (x INT)", "CREATE TABLE b (y INT)"]
