"""GrafanaSkill: the readiness row and the tools, over one GrafanaClient per team."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

from skills.base import Credential, Readiness, Skill, SkillContext, SkillError, Tool
from skills.cache import Memory
from skills.grafana import readiness as readiness_mod
from skills.grafana.client import INTEGRATION, GrafanaClient, display_url
from skills.grafana.tools import build_tools
from skills.http import RetryPolicy
from skills.memory import TeamMemory
from skills.vercel_drain.readiness import probe_for as drain_probe_for
from supervisor import Supervisor


class GrafanaSkill(Skill):
    name = "grafana"
    title = "Grafana"

    def __init__(
        self,
        url: Credential,
        token: Credential,
        *,
        loki_uid: str | None = None,
        prometheus_uid: str | None = None,
        readiness_timeout: float = readiness_mod.TIMEOUT_S,
        policy: RetryPolicy | None = None,
        drain: readiness_mod.DrainProbe | None = None,
        supervisor: Supervisor | None = None,
        memory: Memory | None = None,
    ) -> None:
        self.url = url
        self.link_hosts = frozenset(h for h in [urlsplit(url.value or "").hostname] if h)
        self.drain = drain
        self.token = token
        self.readiness_timeout = readiness_timeout
        self._client: GrafanaClient | None = None
        if self.configured:
            self._client = GrafanaClient.from_credentials(
                url,
                token,
                loki_uid=loki_uid,
                prometheus_uid=prometheus_uid,
                policy=policy,
                supervisor=supervisor,
                memory=memory,
            )

    @property
    def configured(self) -> bool:
        return bool(self.url.value and self.token.value)

    @property
    def client(self) -> GrafanaClient:
        """The client; a SkillError naming the missing variables when Grafana is not configured."""
        if self._client is None:
            row = readiness_mod.not_configured(self.url, self.token)
            raise SkillError(INTEGRATION, row.missing, row.next_step)
        return self._client

    async def readiness(self) -> Readiness:
        if self._client is None:
            return readiness_mod.not_configured(self.url, self.token)
        return await readiness_mod.check(self._client, self.readiness_timeout, self.drain)

    async def check(self) -> dict[str, Any]:
        """Health, version, who the token is, data sources, and the readiness diagnosis."""
        row = await self.readiness()
        if self._client is None:
            return {"url": self.url.value, "readiness": readiness_dict(row)}
        client = self._client
        out: dict[str, Any] = {"url": client.public_url, "readiness": readiness_dict(row)}
        try:
            health, user, sources = await asyncio.gather(client.health(), client.identity(), client.datasources())
        except SkillError as exc:
            out["error"] = exc.one_line()
            return out
        out.update(
            version=health.get("version"),
            database=health.get("database"),
            user=user,
            datasources=[{k: d[k] for k in ("name", "type", "uid", "default")} for d in sources][:30],
            loki_uid=await client.loki_uid(),
            prometheus_uid=await client.prometheus_uid(),
        )
        return out

    def tools(self) -> list[Tool]:
        return build_tools(self)

    def secrets(self) -> list[str]:
        return [self.token.value] if self.token.value else []

    async def warm(self) -> None:
        if self._client is not None:
            await self._client.discovery.warm()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def readiness_dict(row: Readiness) -> dict[str, Any]:
    return {
        "integration": row.integration,
        "status": str(row.status),
        "missing": row.missing,
        "next_step": row.next_step,
        "detail": row.detail,
    }


async def open_skill(ctx: SkillContext) -> GrafanaSkill:
    """The team's Grafana skill: stored credentials win over GRAFANA_URL / GRAFANA_TOKEN."""
    url = await ctx.credential("grafana", "url", "GRAFANA_URL")
    token = await ctx.credential("grafana", "token", "GRAFANA_TOKEN")
    overrides = ctx.team.config.grafana.datasources
    memory = None
    if ctx.storage is not None and url.value:
        scope = f"grafana {display_url(url.value)} loki={overrides.loki or ''} prometheus={overrides.prometheus or ''}"
        memory = TeamMemory(ctx.storage.remembered, ctx.team.id, scope)
    return GrafanaSkill(
        url,
        token,
        loki_uid=overrides.loki,
        prometheus_uid=overrides.prometheus,
        drain=drain_probe_for(ctx),
        supervisor=ctx.supervisor,
        memory=memory,
    )
