"""Settings from the environment: secrets never in a repr, redaction derived from the fields, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from agent.services import Services
from settings import Settings, SettingsError, StartupError
from skills.base import Credential, SkillContext
from storage.services import open_storage
from storage.teams import DEFAULT_TEAM_ID

SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-secret-bot-0001",
    "SLACK_APP_TOKEN": "xapp-secret-app-0001",
    "SITREP_ADMIN_TOKEN": "admin-secret-0001",
    "SITREP_ALERTS_TOKEN": "alerts-secret-0001",
    "ANTHROPIC_API_KEY": "sk-ant-secret-0001",
    "GRAFANA_TOKEN": "glsa_secret-0001",
    "AMPLITUDE_API_KEY": "amp-api-secret-0001",
    "AMPLITUDE_SECRET_KEY": "amp-secret-secret-0001",
    "GITHUB_APP_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----secret-0001",
    "GITHUB_WEBHOOK_SECRET": "webhook-secret-0001",
    "VERCEL_DRAIN_SECRET": "vercel-drain-secret-0001",
    "VERCEL_DRAIN_VERIFY": "vercel-drain-verify-0001",
    "LOKI_PUSH_TOKEN": "glc_loki-push-secret-0001",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-access-secret-0001",
    "AWS_SESSION_TOKEN": "aws-session-secret-0001",
    "AWS_BEARER_TOKEN_BEDROCK": "bedrock-api-key-secret-0001",
}


def test_repr_of_settings_and_credentials_shows_no_secret(env: dict[str, str]) -> None:
    settings = Settings.from_env({**env, **SECRETS})
    shown = repr(settings) + str(settings) + repr(Credential(SECRETS["GRAFANA_TOKEN"], "GRAFANA_TOKEN"))
    for value in [*SECRETS.values(), env["SITREP_SECRET_KEY"]]:
        assert value not in shown
    assert "GRAFANA_TOKEN" in repr(Credential("x", "GRAFANA_TOKEN"))


async def test_every_secret_field_is_redacted(env: dict[str, str]) -> None:
    """Services.secrets() covers each SecretStr setting: a new secret variable is redacted without a list to edit."""
    settings = Settings.from_env({**env, **SECRETS})
    secret_fields = [
        name for name, f in Settings.model_fields.items() if SecretStr in getattr(f.annotation, "__args__", ())
    ]
    assert len(secret_fields) == len(SECRETS) + 1  # + SITREP_SECRET_KEY
    services = Services(settings=settings, storage=await open_storage(settings))
    try:
        held = await services.secrets()
    finally:
        await services.close()
    assert set(held) >= {*SECRETS.values(), env["SITREP_SECRET_KEY"]}


async def test_a_skill_reads_the_plain_bootstrap_value(env: dict[str, str]) -> None:
    settings = Settings.from_env({**env, "GRAFANA_TOKEN": " glsa_abc ", "GRAFANA_URL": "https://g.example"})
    storage = await open_storage(settings)
    try:
        team = await storage.teams.get(DEFAULT_TEAM_ID)
        ctx = SkillContext(settings=settings, team=team, credentials=storage.credentials, storage=storage)
        token = await ctx.credential("grafana", "token", "GRAFANA_TOKEN")
        url = await ctx.credential("grafana", "url", "GRAFANA_URL")
    finally:
        await storage.close()
    assert (token.value, token.source, url.value) == ("glsa_abc", "GRAFANA_TOKEN", "https://g.example")


def test_values_are_typed_and_cleaned() -> None:
    s = Settings.from_env(
        {"SITREP_ADMINS": "U1, U2,", "AMPLITUDE_REGION": "EU", "SLACK_API_URL": "http://x/api", "SITREP_HTTP_PORT": " "}
    )
    assert (s.admins, s.amplitude_region, s.slack_api_url, s.http_port) == (("U1", "U2"), "eu", "http://x/api/", 3000)
    assert s.db_path == Path("sitrep.db") and s.slack_mode == "shell"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"SITREP_HTTP_PORT": "eighty"}, "SITREP_HTTP_PORT must be a port number, not 'eighty'"),
        ({"AMPLITUDE_REGION": "asia"}, "AMPLITUDE_REGION must be 'us' or 'eu', not 'asia'"),
    ],
)
def test_a_wrong_variable_is_a_settings_error_naming_it(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(environ)
    assert str(caught.value) == message and isinstance(caught.value, StartupError)


def test_the_environment_wins_over_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("SITREP_MODEL=from-dotenv\nSITREP_TIMEZONE=UTC\nGRAFANA_TOKEN=glsa_dotenv\n")
    monkeypatch.setenv("SITREP_MODEL", "from-env")
    s = Settings.from_env(dotenv_path=dotenv)
    assert (s.model, s.timezone, s.env_value("GRAFANA_TOKEN")) == ("from-env", "UTC", "glsa_dotenv")


def test_a_postgresql_url_is_the_database_and_its_password_a_secret() -> None:
    url = "postgresql://sitrep:pw-LEAKCHECK-77@db.internal:5432/sitrep"
    s = Settings.from_env({"SITREP_DB": url, "SITREP_SECRET_KEY": "k"})
    assert (s.db_backend, s.database, s.db_path, s.key_file) == ("postgresql", url, None, None)
    assert "pw-LEAKCHECK-77" in s.secret_values()  # redacted wherever secrets are
    assert "pw-LEAKCHECK-77" not in repr(s) and "sitrep:***@db.internal" in repr(s)
    with pytest.raises(SettingsError, match="a SQLite file path or a postgresql:// URL, not a mysql:// URL"):
        Settings.from_env({"SITREP_DB": "mysql://db/sitrep"})
