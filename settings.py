"""Environment -> typed settings (pydantic-settings). A `.env` file in the working directory is read; the real
environment wins. Secrets are SecretStr: `repr(settings)` and logs show `**********`, never a token.

The bottom layer: it imports nothing of sitrep. `StartupError` lives here so that every layer can raise the one
start-up error app.py prints as one line (exit status 2).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_MODEL = "claude-sonnet-5-5"
DEFAULT_TIMEZONE = "America/Los_Angeles"
DEFAULT_GITHUB_API_URL = "https://api.github.com"


class StartupError(Exception):
    """A start-up problem (settings, secret key, tokens, port): one line saying what is wrong and what to do."""


class SettingsError(StartupError):
    """The environment does not make valid settings; the message names each variable and what is wrong."""

    @classmethod
    def from_validation(cls, exc: ValidationError) -> SettingsError:
        problems = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"])
            cause = (error.get("ctx") or {}).get("error")
            problems.append(str(cause) if isinstance(cause, ValueError) else f"{where}: {error['msg']}")
        return cls("; ".join(problems))


def _env(name: str) -> Any:
    return Field(None, validation_alias=name)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", env_file=".env", env_file_encoding="utf-8", case_sensitive=True
    )

    slack_bot_token: SecretStr | None = _env("SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = _env("SLACK_APP_TOKEN")
    slack_api_url: str = Field(DEFAULT_SLACK_API_URL, validation_alias="SLACK_API_URL")
    database: str = Field("sitrep.db", validation_alias="SITREP_DB")
    secret_key: SecretStr | None = _env("SITREP_SECRET_KEY")
    secret_key_file: Path | None = _env("SITREP_KEY_FILE")
    heartbeat_seconds: float = Field(10.0, validation_alias="SITREP_HEARTBEAT_SECONDS", gt=0, le=20)
    http_host: str = Field("127.0.0.1", validation_alias="SITREP_HTTP_HOST")
    http_port: int = Field(3000, validation_alias="SITREP_HTTP_PORT")
    # unset: GitHub cannot reach this host, so routed repos are polled instead of sending webhooks
    public_url: str | None = _env("SITREP_PUBLIC_URL")
    report_channel: str | None = _env("SITREP_REPORT_CHANNEL")
    timezone: str = Field(DEFAULT_TIMEZONE, validation_alias="SITREP_TIMEZONE")
    admins: Annotated[tuple[str, ...], NoDecode] = Field((), validation_alias="SITREP_ADMINS")
    admin_token: SecretStr | None = _env("SITREP_ADMIN_TOKEN")
    alerts_token: SecretStr | None = _env("SITREP_ALERTS_TOKEN")
    anthropic_api_key: SecretStr | None = _env("ANTHROPIC_API_KEY")
    anthropic_base_url: str | None = _env("ANTHROPIC_BASE_URL")
    model: str = Field(DEFAULT_MODEL, validation_alias="SITREP_MODEL")
    # Where Claude runs (agent/model_client.py): Anthropic's API (or a compatible server at ANTHROPIC_BASE_URL),
    # Amazon Bedrock or Google Vertex AI, each with its platform's own variables (read here so .env works too).
    model_provider: Literal["anthropic", "bedrock", "vertex"] = Field(
        "anthropic", validation_alias="SITREP_MODEL_PROVIDER"
    )
    # $ per million tokens by model, over the built-in table: {"model": {"input": 2, "output": 10}} (agent/pricing.py)
    model_prices: Annotated[dict[str, dict[str, float]], NoDecode] = Field({}, validation_alias="SITREP_MODEL_PRICES")
    aws_region: str | None = _env("AWS_REGION")
    aws_default_region: str | None = _env("AWS_DEFAULT_REGION")
    aws_profile: str | None = _env("AWS_PROFILE")
    aws_access_key_id: str | None = _env("AWS_ACCESS_KEY_ID")
    aws_secret_access_key: SecretStr | None = _env("AWS_SECRET_ACCESS_KEY")
    aws_session_token: SecretStr | None = _env("AWS_SESSION_TOKEN")
    aws_bearer_token_bedrock: SecretStr | None = _env("AWS_BEARER_TOKEN_BEDROCK")
    bedrock_base_url: str | None = _env("ANTHROPIC_BEDROCK_BASE_URL")
    vertex_region: str | None = _env("CLOUD_ML_REGION")
    vertex_project: str | None = _env("ANTHROPIC_VERTEX_PROJECT_ID")
    vertex_base_url: str | None = _env("ANTHROPIC_VERTEX_BASE_URL")
    google_credentials: Path | None = _env("GOOGLE_APPLICATION_CREDENTIALS")
    grafana_url: str | None = _env("GRAFANA_URL")
    grafana_token: SecretStr | None = _env("GRAFANA_TOKEN")
    amplitude_api_key: SecretStr | None = _env("AMPLITUDE_API_KEY")
    amplitude_secret_key: SecretStr | None = _env("AMPLITUDE_SECRET_KEY")
    amplitude_region: Literal["us", "eu"] = Field("us", validation_alias="AMPLITUDE_REGION")
    amplitude_api_url: str | None = _env("AMPLITUDE_API_URL")
    github_app_id: str | None = _env("GITHUB_APP_ID")
    github_app_private_key: SecretStr | None = _env("GITHUB_APP_PRIVATE_KEY")
    github_app_slug: str | None = _env("GITHUB_APP_SLUG")
    github_webhook_secret: SecretStr | None = _env("GITHUB_WEBHOOK_SECRET")
    github_api_url: str = Field(DEFAULT_GITHUB_API_URL, validation_alias="GITHUB_API_URL")
    github_poll_seconds: int = Field(60, validation_alias="SITREP_GITHUB_POLL_SECONDS")
    vercel_drain_secret: SecretStr | None = _env("VERCEL_DRAIN_SECRET")
    vercel_drain_verify: SecretStr | None = _env("VERCEL_DRAIN_VERIFY")
    loki_push_url: str | None = _env("LOKI_PUSH_URL")
    loki_push_user: str | None = _env("LOKI_PUSH_USER")
    loki_push_token: SecretStr | None = _env("LOKI_PUSH_TOKEN")

    @model_validator(mode="before")
    @classmethod
    def _clean(cls, values: Any) -> Any:
        """Surrounding whitespace goes; an empty variable counts as unset (the default applies)."""
        if not isinstance(values, Mapping):
            return values
        cleaned = {k: v.strip() if isinstance(v, str) else v for k, v in values.items()}
        return {k: v for k, v in cleaned.items() if v != ""}

    @field_validator("http_port", mode="before")
    @classmethod
    def _port(cls, value: Any) -> Any:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ValueError(f"SITREP_HTTP_PORT must be a port number, not {value!r}") from None

    @field_validator("amplitude_region", mode="before")
    @classmethod
    def _region(cls, value: Any) -> Any:
        region = str(value).lower()
        if region not in ("us", "eu"):
            raise ValueError(f"AMPLITUDE_REGION must be 'us' or 'eu', not {region!r}")
        return region

    @field_validator("model_prices", mode="before")
    @classmethod
    def _prices(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            table = json.loads(value)
        except ValueError:
            table = None
        rows = table.values() if isinstance(table, dict) else ()
        if not isinstance(table, dict) or not all(isinstance(r, dict) and {"input", "output"} <= set(r) for r in rows):
            raise ValueError(
                'SITREP_MODEL_PRICES must be JSON like {"claude-sonnet-5-5": {"input": 2, "output": 10}} '
                "($ per million tokens; cache_write and cache_read optional)"
            )
        return table

    @model_validator(mode="after")
    def _provider(self) -> Settings:
        """Bedrock and Vertex AI each need their region; the rest comes from their credential chains."""
        if self.model_provider == "bedrock" and not (self.aws_region or self.aws_default_region or self.aws_profile):
            raise ValueError("SITREP_MODEL_PROVIDER=bedrock needs AWS_REGION (the Bedrock region, like us-east-1)")
        if self.model_provider == "vertex" and not self.vertex_region:
            raise ValueError("SITREP_MODEL_PROVIDER=vertex needs CLOUD_ML_REGION (like us-east5, or global)")
        return self

    @field_validator("admins", mode="before")
    @classmethod
    def _admins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(a.strip() for a in value.split(",") if a.strip())
        return value

    @field_validator("database")
    @classmethod
    def _database(cls, value: str) -> str:
        scheme, sep, _ = value.partition("://")
        if sep and scheme not in ("postgresql", "postgres"):
            raise ValueError(f"SITREP_DB must be a SQLite file path or a postgresql:// URL, not a {scheme}:// URL")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _slack_url(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("github_api_url")
    @classmethod
    def _github_url(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        return value.rstrip("/") or None if value else None

    @field_validator("github_poll_seconds", mode="before")
    @classmethod
    def _poll(cls, value: Any) -> Any:
        try:
            seconds = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"SITREP_GITHUB_POLL_SECONDS must be a number of seconds, not {value!r}") from None
        if seconds < 10:
            raise ValueError("SITREP_GITHUB_POLL_SECONDS must be at least 10 (GitHub's rate limit)")
        return seconds

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, dotenv_path: str | Path = ".env") -> Settings:
        """From the process environment and `dotenv_path` (the environment wins), or from `environ` alone.

        Raises SettingsError, naming each variable that is wrong, instead of pydantic's ValidationError.
        """
        try:
            if environ is None:
                return cls(_env_file=dotenv_path if Path(dotenv_path).is_file() else None)
            return cls.model_validate(dict(environ))
        except ValidationError as exc:
            raise SettingsError.from_validation(exc) from None

    def env_value(self, name: str) -> str | None:
        """The plain value of the setting read from environment variable `name` (a secret unwrapped), or None."""
        for field_name, info in type(self).model_fields.items():
            if info.validation_alias == name:
                value = getattr(self, field_name)
                if isinstance(value, SecretStr):
                    return value.get_secret_value()
                return None if value is None else str(value)
        return None

    def secret_values(self) -> list[str]:
        """Every secret set in the environment (each SecretStr field, and the password in a PostgreSQL
        SITREP_DB), for redaction."""
        values = (getattr(self, name) for name in type(self).model_fields)
        secrets = [v.get_secret_value() for v in values if isinstance(v, SecretStr) and v.get_secret_value()]
        if self.db_backend == "postgresql":
            password = urlsplit(self.database).password
            if password:
                secrets.append(password)
        return secrets

    def __repr_args__(self) -> Any:
        """repr() never shows SITREP_DB's password."""
        for name, value in super().__repr_args__():
            if name == "database" and isinstance(value, str) and urlsplit(value).password:
                parts = urlsplit(value)
                value = value.replace(f":{parts.password}@", ":***@", 1)
            yield name, value

    @staticmethod
    def reveal(secret: SecretStr | None) -> str | None:
        """A secret's plain value (None when unset): only where it is handed to the service it is for."""
        return secret.get_secret_value() if secret is not None else None

    @property
    def db_backend(self) -> Literal["sqlite", "postgresql"]:
        """'postgresql' when SITREP_DB is a postgresql:// URL, else 'sqlite' (a file path)."""
        return "postgresql" if self.database.startswith(("postgresql://", "postgres://")) else "sqlite"

    @property
    def db_path(self) -> Path | None:
        """The SQLite file; None when SITREP_DB is a PostgreSQL URL."""
        return Path(self.database) if self.db_backend == "sqlite" else None

    @property
    def key_file(self) -> Path | None:
        """Where the Fernet key is read from without SITREP_SECRET_KEY: SITREP_KEY_FILE, else beside the SQLite
        file (generated there once). None with PostgreSQL and no SITREP_KEY_FILE: the key must be given."""
        if self.secret_key_file is not None:
            return self.secret_key_file
        path = self.db_path
        return path.with_name(path.name + ".key") if path is not None else None

    @property
    def slack_mode(self) -> str:
        """'socket' with both tokens, 'shell' with neither, 'partial' with one."""
        if self.slack_bot_token and self.slack_app_token:
            return "socket"
        if not self.slack_bot_token and not self.slack_app_token:
            return "shell"
        return "partial"
