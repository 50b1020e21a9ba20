"""What runs beside the Slack connection: the web server (with the Vercel drain relay), the report scheduler, the
replica heartbeat (which also answers the mentions a dead replica acked), the poster's sender and the alert desk's
investigators (each also finishing what a dead replica or the previous run left in the store). Started and stopped
as one, on the Runtime (bot/runtime.py): the scheduler and the relay are its `scheduler` and `drain` while they
run."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

from aiohttp import web

from bot.github_web import slack_notifier
from bot.runtime import Runtime
from bot.slack.alerts import candidate, take_alert_message
from bot.slack.mentions import answer_event
from bot.slack.report import run_scheduled
from bot.web import bound_port, start_web
from reports.scheduler import ReportScheduler
from reports.warm import before_slot
from review.deferred import DeferredReviews
from review.intake import Poller
from settings import StartupError
from skills.base import SkillContext
from skills.github.skill import webhook_mode
from skills.readiness import skill_readiness
from skills.services import Services
from skills.vercel_drain import DrainConfig, Relay, RelayLimits, load_config
from storage.db import DatabaseUnavailable
from storage.events import OpenEvent
from storage.jobs import Job
from storage.replicas import DEAD_BEATS

log = logging.getLogger(__name__)

SCHEDULER_STOP_S = 2.0


async def start_relay(services: Services, limits: RelayLimits | None = None) -> Relay:
    """The drain relay of the default team (one drain URL per sitrep), reading its settings as they change."""

    async def loader() -> DrainConfig:
        team = await services.team_for(None)
        ctx = SkillContext(
            settings=services.settings, team=team, credentials=services.credentials, storage=services.storage
        )
        return await load_config(ctx)

    relay = Relay(
        loader, services.storage.drain, limits, changes=services.storage.changes, supervisor=services.supervisor
    )
    await relay.start()
    return relay


class Background:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.services = runtime.services
        self.web: web.AppRunner | None = None
        self._warming: asyncio.Task[None] | None = None
        self.heartbeat: asyncio.Task[None] | None = None
        self.poller: Poller | None = None
        self.deferred: DeferredReviews | None = None

    async def start_web(self) -> None:
        """The web server and the drain relay behind it. app.py starts them before connecting to Slack, so /healthz
        and /readyz (503 until Socket Mode is connected) answer meanwhile; `start()` starts them if not yet."""
        if self.web is not None:
            return
        settings = self.services.settings
        self.runtime.drain = await start_relay(self.services)
        try:
            self.web = await start_web(self.runtime, slack_notifier(self.runtime))
        except OSError as exc:
            raise StartupError(
                f"cannot serve on {settings.http_host}:{settings.http_port} ({exc.strerror or exc}); "
                "set SITREP_HTTP_PORT to a free port"
            ) from None

    async def start(self) -> None:
        settings = self.services.settings
        await self.start_web()
        assert self.web is not None, "start_web() serves or raises"
        # logged once connected, so a start-up that stops (a rejected token) still prints its one line alone
        log.info("web server on http://%s:%s", settings.http_host, bound_port(self.web))
        await self.services.storage.replicas.beat()
        self.heartbeat = asyncio.create_task(self._beat(), name="replica heartbeat")
        poster, desk = self.runtime.poster(), self.runtime.alert_desk()
        if poster is not None:
            poster.start()  # posts and edits a previous run or a dead replica left in the outbox
        if desk is not None:
            desk.start()  # alert investigations left without a reply
        notify = slack_notifier(self.runtime)
        if webhook_mode(settings):
            log.info("GitHub: webhook mode (%s/github/webhook)", settings.public_url)
        else:
            log.info("GitHub: no webhooks (SITREP_PUBLIC_URL and GITHUB_WEBHOOK_SECRET), polling routed repos")
            self.poller = Poller(self.services, notify)
            self.poller.start()
        self.deferred = DeferredReviews(self.services, notify)  # reviews a GitHub rate limit put off, either mode
        self.deferred.start()
        scheduler = ReportScheduler(
            self.services.jobs,
            self._run_job,
            before_slot=self._before_slot,
            watch_every=settings.heartbeat_seconds,
            supervisor=self.services.supervisor,
            changes=self.services.storage.config,
        )
        await scheduler.start()
        self.runtime.scheduler = scheduler
        self._warming = self.services.supervisor.spawn(self._warm(), "warming the integrations", group="discovery")

    async def _warm(self) -> None:
        """Discover what the integrations have (data sources, labels, event names) while nobody waits for it, and
        check each one's readiness, so a Blocked one's tools are held back from the first question."""
        team = await self.services.team_for(None)
        for skill in await self.services.skills_for(team):
            try:
                await skill.warm()
            except Exception as exc:  # a failing integration says so when it is used; warming is best effort
                log.info("warming %s failed: %s", skill.name, exc)
            if skill.configured:
                await skill_readiness(skill)

    async def _before_slot(self, job: Job) -> None:
        await before_slot(self.services, job)

    async def _run_job(self, job: Job, scheduled_for: datetime) -> str | None:
        return await run_scheduled(self.runtime, job, scheduled_for)

    async def _beat(self) -> None:
        """Every SITREP_HEARTBEAT_SECONDS: say this replica is alive, and answer the events a replica silent for
        DEAD_BEATS heartbeats acked but never answered."""
        replicas, events = self.services.storage.replicas, self.services.storage.events
        every = self.services.settings.heartbeat_seconds
        ticks = 0
        while True:
            await asyncio.sleep(every)
            try:
                await replicas.beat()
                for event in await events.adopt(max(1, round(every * DEAD_BEATS))):
                    await self._answer_adopted(event)
                ticks += 1
                if ticks % max(1, round(3600 / every)) == 1:  # about hourly
                    await events.prune()
                    await replicas.forget_stale()
                    await self.services.storage.outbox.prune(time.time())
            except DatabaseUnavailable as exc:
                log.warning("heartbeat not written (%s); retrying in %.0f s", exc, every)
            except Exception:
                log.exception("heartbeat failed")

    async def _answer_adopted(self, open_event: OpenEvent) -> None:
        body, client = open_event.body, self.runtime.slack
        event = body.get("event")
        if client is None or not isinstance(event, dict) or not event.get("channel"):
            await self.services.storage.events.finish(open_event.event_id)
            return
        if event.get("type") == "message" and candidate(event, self.runtime.slack_identity):
            log.info("taking event %s, another bot's message a replica acked before recording it", open_event.event_id)
            await take_alert_message(self.runtime, event, open_event.event_id)
            return
        log.info("answering event %s, acked by a replica that stopped before answering", open_event.event_id)
        source = "mention" if event.get("type") == "app_mention" else "dm"
        await answer_event(self.runtime, client, event, body, source)

    async def stop(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.cancel()
            await asyncio.gather(self.heartbeat, return_exceptions=True)
            self.heartbeat = None
            try:
                await self.services.storage.replicas.leave()
            except DatabaseUnavailable as exc:
                log.warning("could not remove this replica's heartbeat row (%s)", exc)
        if self._warming is not None and not self._warming.done():
            self._warming.cancel()
            await asyncio.gather(self._warming, return_exceptions=True)
        if self.poller is not None:
            await self.poller.stop()
            self.poller = None
        if self.deferred is not None:
            await self.deferred.stop()
            self.deferred = None
        scheduler, self.runtime.scheduler = self.runtime.scheduler, None
        if scheduler is not None:
            await scheduler.shutdown(timeout=SCHEDULER_STOP_S)
        if self.web is not None:
            try:
                await asyncio.wait_for(self.web.cleanup(), 2.0)
            except TimeoutError:
                log.warning("the web server did not stop within 2 s")
            self.web = None
        relay, self.runtime.drain = self.runtime.drain, None
        if relay is not None:
            await relay.stop()
        await self.runtime.close()  # the poster's sender and the investigators: what is pending stays in the store
