"""GitHubSkill: the App's credentials, the team's linked installation and routed repos, the one client."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from settings import Settings
from skills.base import Readiness, Skill, SkillContext, SkillError, Tool
from skills.github.auth import AppJwt, PrivateKeyError, load_private_key
from skills.github.client import INTEGRATION, GitHubClient
from skills.github.readiness import check
from skills.github.tools import build_tools
from skills.http import RetryPolicy

if TYPE_CHECKING:
    from storage.github import GitHubStore, InstallationLink

log = logging.getLogger(__name__)

APP_VARS = ("GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY")


LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})


def webhook_mode(settings: Settings) -> bool:
    """Webhooks need a public URL GitHub can reach (not a loopback host) and a secret to verify them; otherwise
    sitrep polls."""
    host = urlparse(settings.public_url or "").hostname or ""
    return bool(host and host not in LOOPBACK and Settings.reveal(settings.github_webhook_secret))


def web_apps_url(api_url: str) -> str:
    """Where the App's pages live, from GITHUB_API_URL: GitHub Enterprise Server's API is https://HOST/api/v3 and its
    Apps are at https://HOST/github-apps/<slug>; anything else is github.com (https://github.com/apps/<slug>)."""
    parts = urlparse(api_url.rstrip("/"))
    if parts.path.endswith("/api/v3"):
        return f"{parts.scheme}://{parts.netloc}{parts.path.removesuffix('/api/v3')}/github-apps"
    return "https://github.com/apps"


class GitHubSkill(Skill):
    name = "github"
    title = "GitHub"

    def __init__(
        self,
        settings: Settings,
        *,
        repos: list[str] | None = None,
        link: InstallationLink | None = None,
        store: GitHubStore | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        api_host = urlparse(settings.github_api_url).hostname or ""
        # the web host links point at: github.com for the API at api.github.com, the Enterprise host otherwise
        self.link_hosts = frozenset({"github.com" if api_host == "api.github.com" else api_host} - {""})
        self.store = store  # recorded changes, for the recent_changes tool
        self.repos = list(repos or [])
        self.link = link
        self._retry = retry
        self._client: GitHubClient | None = None

    @property
    def configured(self) -> bool:
        return bool(self.settings.github_app_id and self.settings.github_app_private_key)

    @property
    def webhook_mode(self) -> bool:
        return webhook_mode(self.settings)

    def missing_variables(self) -> list[str]:
        s = self.settings
        return [
            name for name, value in zip(APP_VARS, (s.github_app_id, s.github_app_private_key), strict=True) if not value
        ]

    @property
    def client(self) -> GitHubClient:
        """The one client (created on first use). Raises SkillError when the App is not configured."""
        if not self.configured:
            raise SkillError(
                INTEGRATION,
                "the GitHub App is not configured",
                f"Set {' and '.join(self.missing_variables())} (docs/github.md)",
            )
        if self._client is None:
            try:
                key = load_private_key(Settings.reveal(self.settings.github_app_private_key) or "")
            except PrivateKeyError as exc:
                raise SkillError(INTEGRATION, str(exc), "Download a new private key from the App's settings") from None
            jwt = AppJwt(self.settings.github_app_id or "", key)
            self._client = GitHubClient(self.settings.github_api_url, jwt, retry=self._retry)
        return self._client

    @property
    def installation_id(self) -> int:
        if self.link is None:
            raise SkillError(
                INTEGRATION, "no GitHub App installation is linked to this team", "Use Link GitHub on the Home tab"
            )
        return self.link.installation_id

    def install_url(self, state: str | None = None) -> str | None:
        slug = self.settings.github_app_slug
        if not slug:
            return None
        url = f"{web_apps_url(self.settings.github_api_url)}/{slug}/installations/new"
        return f"{url}?state={state}" if state else url

    async def readiness(self) -> Readiness:
        return await check(self)

    def tools(self) -> list[Tool]:
        return build_tools(self)

    def secrets(self) -> list[str]:
        """The App key (whole, and each line of its body: a quoted fragment is still a leak), the webhook secret,
        and the installation tokens minted so far."""
        s = self.settings
        pem = Settings.reveal(s.github_app_private_key) or ""
        values = [v for v in (pem, Settings.reveal(s.github_webhook_secret)) if v]
        key = pem.replace("\\n", "\n")
        values += [line.strip() for line in key.splitlines() if len(line.strip()) >= 16 and "-----" not in line]
        if self._client is not None:
            values += self._client.secrets()
        return values

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


async def open_skill(ctx: SkillContext, *, retry: RetryPolicy | None = None) -> GitHubSkill:
    """The GitHub skill for a team: App from the environment, installation link from storage, repos from config."""
    link = store = None
    if ctx.storage is not None:
        store = ctx.storage.github
        link = await store.installation(ctx.team.id)
    return GitHubSkill(ctx.settings, repos=ctx.team.config.routing.github_repos, link=link, store=store, retry=retry)
