import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from settings import Settings
from storage.audit import mask
from storage.credentials import SecretKeyError, load_or_create_key
from storage.services import Storage, open_storage
from storage.teams import DEFAULT_TEAM_ID

SECRET = "glsa_S3cr3tT0kenValue_4f2a"


async def test_round_trip_and_ciphertext_holds_no_plaintext(storage: Storage) -> None:
    await storage.credentials.set(DEFAULT_TEAM_ID, "grafana", "token", SECRET, "U1")
    assert await storage.credentials.get(DEFAULT_TEAM_ID, "grafana", "token") == SECRET
    assert await storage.credentials.get_all(DEFAULT_TEAM_ID, "grafana") == {"token": SECRET}
    raw = Path(storage.db.path).read_bytes() + Path(str(storage.db.path) + "-wal").read_bytes()
    assert SECRET.encode() not in raw


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
