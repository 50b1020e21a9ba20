"""What runs beside the Slack connection: the web server and the report scheduler. Started and stopped as one."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from aiohttp import web

from bot.services import Services
from bot.web import bound_port, start_web
from reports.post import run_scheduled_report
from reports.scheduler import ReportScheduler
from settings import StartupError
from storage.jobs import Job

log = logging.getLogger(__name__)

SCHEDULER_STOP_S = 2.0


class Runtime:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.web: web.AppRunner | None = None

    async def start(self) -> None:
        settings = self.services.settings
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

    async def _run_job(self, job: Job, scheduled_for: datetime) -> str | None:
        return await run_scheduled_report(self.services, job, scheduled_for)

    async def stop(self) -> None:
        scheduler, self.services.scheduler = self.services.scheduler, None
        if scheduler is not None:
            await scheduler.shutdown(timeout=SCHEDULER_STOP_S)
        if self.web is not None:
            try:
                await asyncio.wait_for(self.web.cleanup(), 2.0)
            except TimeoutError:
                log.warning("the web server did not stop within 2 s")
            self.web = None
