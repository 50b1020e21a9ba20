"""What runs beside the Slack connection: the web server (with the Vercel drain relay) and the report scheduler.
Started and stopped as one."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from aiohttp import web

from bot.services import Services
from bot.web import bound_port, start_web
from reports.scheduler import ReportScheduler
from settings import StartupError
from skills.base import SkillContext
from skills.vercel_drain import DrainConfig, Relay, RelayLimits, load_config
from storage.drain import DrainStore
from storage.jobs import Job

log = logging.getLogger(__name__)

SCHEDULER_STOP_S = 2.0


async def start_relay(services: Services, limits: RelayLimits | None = None) -> Relay:
    """The drain relay of the default team (one drain URL per sitrep), reading its settings as they change."""

    async def loader() -> DrainConfig:
        team = await services.team_for(None)
        return await load_config(SkillContext(settings=services.settings, team=team, credentials=services.credentials))

    relay = Relay(loader, DrainStore(services.storage.db), limits)
    await relay.start()
    return relay


class Runtime:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.web: web.AppRunner | None = None
        self._warming: asyncio.Task[None] | None = None

    async def start(self) -> None:
        settings = self.services.settings
        self.services.drain = await start_relay(self.services)
        try:
            self.web = await start_web(self.services)
        except OSError as exc:
            raise StartupError(
                f"cannot serve on {settings.http_host}:{settings.http_port} ({exc.strerror or exc}); "
                "set SITREP_HTTP_PORT to a free port"
            ) from None
        log.info("web server on http://%s:%s", settings.http_host, bound_port(self.web))
        scheduler = ReportScheduler(self.services.jobs, self._run_job)
        await scheduler.start()
        self.services.scheduler = scheduler
        self._warming = asyncio.create_task(self._warm())

    async def _warm(self) -> None:
        """Discover what the integrations have (data sources, labels, event names) while nobody waits for it."""
        team = await self.services.team_for(None)
        for skill in await self.services.skills_for(team):
            try:
                await skill.warm()
            except Exception as exc:  # a failing integration says so when it is used; warming is best effort
                log.info("warming %s failed: %s", skill.name, exc)

    async def _run_job(self, job: Job, scheduled_for: datetime) -> str | None:
        from bot.slack.report import run_scheduled

        return await run_scheduled(self.services, job, scheduled_for)

    async def stop(self) -> None:
        if self._warming is not None and not self._warming.done():
            self._warming.cancel()
            await asyncio.gather(self._warming, return_exceptions=True)
        scheduler, self.services.scheduler = self.services.scheduler, None
        if scheduler is not None:
            await scheduler.shutdown(timeout=SCHEDULER_STOP_S)
        if self.web is not None:
            try:
                await asyncio.wait_for(self.web.cleanup(), 2.0)
            except TimeoutError:
                log.warning("the web server did not stop within 2 s")
            self.web = None
        relay, self.services.drain = self.services.drain, None
        if relay is not None:
            await relay.stop()
