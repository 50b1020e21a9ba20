"""`python app.py db copy --to postgresql://…`: every table of a SQLite install, into an empty PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from app import CommandError, cmd_db_copy
from settings import Settings
from storage.conversations import AnswerRecord, ConversationStore
from storage.copy import copy_database
from storage.db import Database
from storage.services import open_storage
from storage.teams import DEFAULT_TEAM_ID
from tests.app.test_app_cli import run_app

SECRET = "glsa_S3cr3tT0kenValue_4f2a"


async def filled_sqlite(env: dict[str, str]) -> Settings:
    settings = Settings.from_env(env)
    st = await open_storage(settings)
    try:
        await st.credentials.set(DEFAULT_TEAM_ID, "grafana", "token", SECRET, "U1")
        await st.config.patch(DEFAULT_TEAM_ID, {"reports": {"channel": "C0ADZHLL76V"}}, "U1")
        await st.jobs.seed_defaults(DEFAULT_TEAM_ID, "C0ADZHLL76V", "America/Los_Angeles")
        job = (await st.jobs.list())[0]
        await st.jobs.claim(job.id, "2026-03-09T15:00:00Z")
        store = ConversationStore(st.db)
        answer = await store.record(
            AnswerRecord(DEFAULT_TEAM_ID, "mention", "q", "a", "rules", channel="C1", thread_ts="1.0")
        )
        await store.record_feedback(answer, "U1", "up")
        await st.events.record("Ev1", {"event_id": "Ev1", "event": {"type": "app_mention"}}, answer=False)
    finally:
        await st.close()
    return settings


async def test_every_table_is_copied_and_the_copy_is_usable(env: dict[str, str], pg_server) -> None:
    settings = await filled_sqlite(env)
    async with pg_server.database() as url:
        source = await Database.open(settings.database)
        target = await Database.open(url)
        try:
            counts = await copy_database(source, target)
            for table in await source.tables():
                if table == "schema_migrations":
                    continue
                want = await source.fetchall(f'SELECT * FROM "{table}" ORDER BY 1')
                got = await target.fetchall(f'SELECT * FROM "{table}" ORDER BY 1')
                assert [tuple(r) for r in got] == [tuple(r) for r in want], table
                assert counts[table] == len(want)
            assert counts["credentials"] == 1 and counts["answers"] == 1 and counts["job_runs"] == 1
        finally:
            await source.close()
            await target.close()
        copied = Settings.from_env({"SITREP_DB": url, "SITREP_SECRET_KEY": env["SITREP_SECRET_KEY"]})
        st = await open_storage(copied)
        try:
            assert await st.credentials.get(DEFAULT_TEAM_ID, "grafana", "token") == SECRET  # same key reads it
            assert (await st.teams.get(DEFAULT_TEAM_ID)).config.reports.channel == "C0ADZHLL76V"
            store = ConversationStore(st.db)
            new = await store.record(AnswerRecord(DEFAULT_TEAM_ID, "mention", "q2", "a2", "rules"))
            assert new == 2  # ids continue after the copied ones
        finally:
            await st.close()


async def test_a_target_with_data_is_refused_and_left_alone(env: dict[str, str], pg_server) -> None:
    settings = await filled_sqlite(env)
    async with pg_server.database() as url:
        other = Settings.from_env({"SITREP_DB": url, "SITREP_SECRET_KEY": Fernet.generate_key().decode()})
        await (await open_storage(other)).close()  # opening seeds the default team and the key check
        with pytest.raises(CommandError, match=r"nothing copied: .* already holds data"):
            await cmd_db_copy(settings, url)


async def test_the_command_copies_and_says_which_key_to_give(env: dict[str, str], pg_server, capsys) -> None:
    settings = await filled_sqlite(env)
    async with pg_server.database() as url:
        assert await cmd_db_copy(settings, url) == 0
    out = capsys.readouterr().out
    assert "credentials: 1 rows" in out and "SITREP_SECRET_KEY" in out
    assert SECRET not in out and env["SITREP_SECRET_KEY"] not in out


def test_db_copy_is_on_the_command_line(env: dict[str, str], tmp_path: Path) -> None:
    done = run_app(["db", "copy", "--to", str(tmp_path / "copy.db")], env)
    assert done.returncode == 2 and "does not exist: nothing to copy" in done.stderr
