"""Environment -> typed settings. A `.env` file in the working directory is read; the real environment wins."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_MODEL = "claude-sonnet-5-5"
DEFAULT_TIMEZONE = "America/Los_Angeles"


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    db_path: Path = Path("sitrep.db")
    secret_key: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = 3000
    public_url: str | None = None  # SITREP_PUBLIC_URL; unset -> GitHub is polled, no webhooks
    report_channel: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    admins: tuple[str, ...] = ()
    admin_token: str | None = None
    anthropic_api_key: str | None = None
    anthropic_base_url: str | None = None
    model: str = DEFAULT_MODEL
    grafana_url: str | None = None
    grafana_token: str | None = None
    amplitude_api_key: str | None = None
    amplitude_secret_key: str | None = None
    amplitude_region: str = "us"
    amplitude_api_url: str | None = None
    github_app_id: str | None = None
    github_app_private_key: str | None = None
    github_app_slug: str | None = None
    github_webhook_secret: str | None = None
    github_api_url: str = "https://api.github.com"
    github_poll_seconds: int = 60
    extra: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def key_file(self) -> Path:
        """Where a generated Fernet key lives: beside the database."""
        return self.db_path.with_name(self.db_path.name + ".key")

    @property
    def slack_mode(self) -> str:
        """'socket' with both tokens, 'shell' with neither, 'partial' with one."""
        if self.slack_bot_token and self.slack_app_token:
            return "socket"
        if not self.slack_bot_token and not self.slack_app_token:
            return "shell"
        return "partial"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, dotenv_path: str | Path = ".env") -> Settings:
        env: dict[str, str] = {}
        if environ is None:
            path = Path(dotenv_path)
            if path.is_file():
                env.update({k: v for k, v in dotenv_values(path).items() if v is not None})
            env.update(os.environ)
        else:
            env.update(environ)

        def get(name: str) -> str | None:
            return _clean(env.get(name))

        port_text = get("SITREP_HTTP_PORT") or "3000"
        try:
            port = int(port_text)
        except ValueError as exc:
            raise ValueError(f"SITREP_HTTP_PORT must be a port number, not {port_text!r}") from exc
        poll_text = get("SITREP_GITHUB_POLL_SECONDS") or "60"
        try:
            poll_seconds = int(poll_text)
        except ValueError as exc:
            raise ValueError(f"SITREP_GITHUB_POLL_SECONDS must be a number of seconds, not {poll_text!r}") from exc
        if poll_seconds < 10:
            raise ValueError("SITREP_GITHUB_POLL_SECONDS must be at least 10 (GitHub's rate limit)")
        region = (get("AMPLITUDE_REGION") or "us").lower()
        if region not in ("us", "eu"):
            raise ValueError(f"AMPLITUDE_REGION must be 'us' or 'eu', not {region!r}")
        slack_url = get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
        if not slack_url.endswith("/"):
            slack_url += "/"
        admins = tuple(a.strip() for a in (get("SITREP_ADMINS") or "").split(",") if a.strip())
        return cls(
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_app_token=get("SLACK_APP_TOKEN"),
            slack_api_url=slack_url,
            db_path=Path(get("SITREP_DB") or "sitrep.db"),
            secret_key=get("SITREP_SECRET_KEY"),
            http_host=get("SITREP_HTTP_HOST") or "127.0.0.1",
            http_port=port,
            public_url=(get("SITREP_PUBLIC_URL") or "").rstrip("/") or None,
            report_channel=get("SITREP_REPORT_CHANNEL"),
            timezone=get("SITREP_TIMEZONE") or DEFAULT_TIMEZONE,
            admins=admins,
            admin_token=get("SITREP_ADMIN_TOKEN"),
            anthropic_api_key=get("ANTHROPIC_API_KEY"),
            anthropic_base_url=get("ANTHROPIC_BASE_URL"),
            model=get("SITREP_MODEL") or DEFAULT_MODEL,
            grafana_url=get("GRAFANA_URL"),
            grafana_token=get("GRAFANA_TOKEN"),
            amplitude_api_key=get("AMPLITUDE_API_KEY"),
            amplitude_secret_key=get("AMPLITUDE_SECRET_KEY"),
            amplitude_region=region,
            amplitude_api_url=get("AMPLITUDE_API_URL"),
            github_app_id=get("GITHUB_APP_ID"),
            github_app_private_key=get("GITHUB_APP_PRIVATE_KEY"),
            github_app_slug=get("GITHUB_APP_SLUG"),
            github_webhook_secret=get("GITHUB_WEBHOOK_SECRET"),
            github_api_url=(get("GITHUB_API_URL") or "https://api.github.com").rstrip("/"),
            github_poll_seconds=poll_seconds,
        )
