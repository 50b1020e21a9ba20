import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from settings import Settings
from storage.audit import mask
from storage.credentials import SecretKeyError, load_or_create_key
from storage.services import Storage, open_storage
from storage.sql import SQLITE
from storage.teams import DEFAULT_TEAM_ID
from tests.support.environment import STORE_BACKENDS

SECRET = "glsa_S3cr3tT0kenValue_4f2a"


@pytest.fixture(params=STORE_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Every test here runs on SQLite and on PostgreSQL, directly and through PgBouncer."""
    return str(request.param)


async def test_round_trip_and_ciphertext_holds_no_plaintext(storage: Storage) -> None:
    await storage.credentials.set(DEFAULT_TEAM_ID, "grafana", "token", SECRET, "U1")
    assert await storage.credentials.get(DEFAULT_TEAM_ID, "grafana", "token") == SECRET
    assert await storage.credentials.get_all(DEFAULT_TEAM_ID, "grafana") == {"token": SECRET}
    if storage.db.backend == SQLITE:
        raw = Path(str(storage.db.path)).read_bytes() + Path(str(storage.db.path) + "-wal").read_bytes()
    else:
        raw = b"".join(bytes(r["ciphertext"]) for r in await storage.db.fetchall("SELECT ciphertext FROM credentials"))
    assert raw and SECRET.encode() not in raw


async def test_audit_shows_only_a_mask(storage: Storage) -> None:
    await storage.credentials.set(DEFAULT_TEAM_ID, "grafana", "token", SECRET, "U1")
    entry = (await storage.audit.recent())[0]
    assert entry.detail == {"credential": "grafana.token", "value": "set, ends in …4f2a"}
    assert SECRET not in repr(await storage.audit.recent())


def test_mask_never_shows_short_secrets() -> None:
    assert mask("abc") == "set"
    assert mask("") == "not set"
    assert mask("0123456789abcdef") == "set, ends in …cdef"


async def test_generated_key_file_is_private_and_reused(tmp_path: Path) -> None:
    settings = Settings.from_env({"SITREP_DB": str(tmp_path / "s.db")})
    st = await open_storage(settings)
    await st.credentials.set(DEFAULT_TEAM_ID, "amplitude", "api_key", SECRET, "U1")
    await st.close()
    key_file = tmp_path / "s.db.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    st = await open_storage(settings)  # same key file: the secret reads back
    assert await st.credentials.get(DEFAULT_TEAM_ID, "amplitude", "api_key") == SECRET
    await st.close()


async def test_wrong_key_fails_clearly_at_start(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    st = await open_storage(Settings.from_env({"SITREP_DB": db, "SITREP_SECRET_KEY": Fernet.generate_key().decode()}))
    await st.credentials.set(DEFAULT_TEAM_ID, "grafana", "token", SECRET, "U1")
    await st.close()
    other = Settings.from_env({"SITREP_DB": db, "SITREP_SECRET_KEY": Fernet.generate_key().decode()})
    with pytest.raises(SecretKeyError, match="encrypted with another key"):
        await open_storage(other)


def test_malformed_key_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SecretKeyError, match="SITREP_SECRET_KEY is not a Fernet key"):
        load_or_create_key("not-a-key", tmp_path / "k")


async def test_postgresql_needs_the_key_given_and_never_writes_a_key_file(pg_server, tmp_path: Path) -> None:
    async with pg_server.database() as url:
        with pytest.raises(SecretKeyError, match="every replica needs the same secret key: set SITREP_SECRET_KEY"):
            await open_storage(Settings.from_env({"SITREP_DB": url}))
        missing = tmp_path / "absent.key"
        with pytest.raises(SecretKeyError, match=r"SITREP_KEY_FILE .* does not exist"):
            await open_storage(Settings.from_env({"SITREP_DB": url, "SITREP_KEY_FILE": str(missing)}))
        key_file = tmp_path / "shared.key"
        key_file.write_text(Fernet.generate_key().decode() + "\n")
        st = await open_storage(Settings.from_env({"SITREP_DB": url, "SITREP_KEY_FILE": str(key_file)}))
        await st.credentials.set(DEFAULT_TEAM_ID, "grafana", "token", SECRET, "U1")
        await st.close()
        other = Settings.from_env({"SITREP_DB": url, "SITREP_SECRET_KEY": Fernet.generate_key().decode()})
        with pytest.raises(SecretKeyError, match="encrypted with another key"):
            await open_storage(other)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared.key"]  # no database file, no generated key
