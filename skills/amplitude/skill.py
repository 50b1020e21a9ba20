"""AmplitudeSkill: credentials and region for one team, the one client, readiness and tools, and the pull request
sitrep opened to instrument the team's app (read by the readiness row)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from skills.amplitude.client import INTEGRATION, AmplitudeClient, base_url_for
from skills.amplitude.links import APP_HOSTS
from skills.amplitude.readiness import READINESS_TIMEOUT, check
from skills.amplitude.tools import build_tools
from skills.base import Credential, Readiness, Skill, SkillContext, SkillError, Tool
from skills.http import RetryPolicy
from supervisor import Supervisor

if TYPE_CHECKING:
    from storage.instrumentation import InstrumentationPR

API_KEY_VAR = "AMPLITUDE_API_KEY"
SECRET_KEY_VAR = "AMPLITUDE_SECRET_KEY"
REGIONS = ("us", "eu")


def utc_now() -> datetime:
    return datetime.now(UTC)


def utc_today() -> date:
    return datetime.now(UTC).date()


class AmplitudeSkill(Skill):
    name = "amplitude"
    title = "Amplitude"

    def __init__(
        self,
        api_key: Credential,
        secret_key: Credential,
        *,
        region: str = "us",
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        readiness_timeout: float = READINESS_TIMEOUT,
        today: Callable[[], date] = utc_today,
        now: Callable[[], datetime] = utc_now,
        instrumentation: Callable[[], Awaitable[InstrumentationPR | None]] | None = None,
        supervisor: Supervisor | None = None,
    ) -> None:
        self.api_key = api_key
        self.secret_key = secret_key
        self.region = region
        self.base_url = base_url_for(region, base_url)
        app = APP_HOSTS.get(region.lower(), APP_HOSTS["us"])
        self.link_hosts = frozenset(h for h in (urlsplit(u).hostname for u in (app, self.base_url)) if h)
        self.readiness_timeout = readiness_timeout
        self.today = today
        self.now = now
        self._retry = retry
        self._supervisor = supervisor
        self._client: AmplitudeClient | None = None
        self._instrumentation = instrumentation

    async def instrumented(self) -> InstrumentationPR | None:
        """The pull request sitrep opened to instrument the team's app (the latest), if any."""
        return await self._instrumentation() if self._instrumentation is not None else None

    @property
    def configured(self) -> bool:
        return bool(self.api_key and self.secret_key)

    def missing_variables(self) -> list[str]:
        return [c.source for c in (self.api_key, self.secret_key) if not c]

    def key_sources(self) -> list[str]:
        return [self.api_key.source, self.secret_key.source]

    @property
    def client(self) -> AmplitudeClient:
        """The project's one client (created on first use). Raises SkillError when keys are missing."""
        if not self.configured:
            raise SkillError(
                INTEGRATION,
                "not configured",
                f"Set {' and '.join(self.missing_variables())}, or save the keys from the Home tab",
            )
        if self._client is None:
            self._client = AmplitudeClient(
                self.api_key.value or "",
                self.secret_key.value or "",
                base_url=self.base_url,
                key_sources=self.key_sources(),
                retry=self._retry,
                supervisor=self._supervisor,
            )
        return self._client

    async def readiness(self) -> Readiness:
        return await check(self, self.readiness_timeout)

    def tools(self) -> list[Tool]:
        return build_tools(self)

    def secrets(self) -> list[str]:
        return [v for v in (self.api_key.value, self.secret_key.value) if v]

    async def warm(self) -> None:
        if self.configured:
            await self.client.events_list()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


async def resolve_region(ctx: SkillContext) -> str:
    """Stored credential 'region', else team.config.amplitude.region, else AMPLITUDE_REGION (default us)."""
    stored = (await ctx.stored("amplitude")).get("region", "").strip().lower()
    if stored in REGIONS:
        return stored
    team_region = ctx.team.config.amplitude.region
    if team_region in REGIONS:
        return team_region
    return ctx.settings.amplitude_region


async def open_skill(ctx: SkillContext, *, retry: RetryPolicy | None = None) -> AmplitudeSkill:
    """The Amplitude skill for a team: stored keys win over AMPLITUDE_API_KEY / AMPLITUDE_SECRET_KEY."""
    api_key = await ctx.credential("amplitude", "api_key", API_KEY_VAR)
    secret_key = await ctx.credential("amplitude", "secret_key", SECRET_KEY_VAR)
    instrumentation: Callable[[], Awaitable[InstrumentationPR | None]] | None = None
    if ctx.storage is not None:
        instrumentation = functools.partial(ctx.storage.instrumentation.latest, ctx.team.id)
    return AmplitudeSkill(
        api_key,
        secret_key,
        region=await resolve_region(ctx),
        base_url=ctx.settings.amplitude_api_url,
        retry=retry,
        instrumentation=instrumentation,
        supervisor=ctx.supervisor,
    )
