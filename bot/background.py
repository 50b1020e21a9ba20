"""What runs beside the Slack connection, as parts whose start and stop sit together (each an async context
manager below), entered on one exit stack and stopped by it in reverse:

    serving_web      the Vercel drain relay and the web server behind it (before Slack connects: the probes answer)
    --- once connected ---
    heartbeat        this replica's heartbeat, which also answers the mentions a dead replica acked
    outbound         the poster's sender and the alert desk's investigators (what a previous run or a dead replica
                     left in the store first)
    reviews          GitHub: the poller (without webhooks) and the reviews a rate limit put off
    scheduling       the report scheduler (leases watched, the schedule in the store followed)
    warming          the integrations' discovery and readiness, while nobody waits for it

Their background work runs on the app's one Supervisor (bot/root.py); the scheduler and the relay are the
Runtime's `scheduler` and `drain` while they run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime

from aiohttp import web

from agent.services import Services
from bot.github_web import slack_notifier
from bot.runtime import Runtime
from bot.slack.alerts import candidate, take_alert_message
from bot.slack.mentions import spawn_answer
from bot.slack.report import poster_of
from bot.web import bound_port, start_web
from reports.post import run_scheduled_report
from reports.scheduler import ReportScheduler
from reports.warm import before_slot
from review.deferred import DeferredReviews
from review.intake import Poller
from settings import StartupError
from skills.base import SkillContext
from skills.github.skill import webhook_mode
from skills.readiness import skill_readiness
from skills.vercel_drain import DrainConfig, Relay, RelayLimits, load_config
from storage.db import DatabaseUnavailable
from storage.events import OpenEvent
from storage.jobs import Job
from storage.replicas import DEAD_BEATS

log = logging.getLogger(__name__)

SCHEDULER_STOP_S = 2.0
WEB_STOP_S = 2.0


class Background:
    """The parts on one exit stack: `start_web()` before connecting, `start()` once connected, `stop()` after."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.web: web.AppRunner | None = None
        self._parts = AsyncExitStack()
        self._started = False

    async def start_web(self) -> None:
        """The web server and the drain relay behind it. app.py starts them before connecting to Slack, so /healthz
        and /readyz (503 until Socket Mode is connected) answer meanwhile; `start()` starts them if not yet."""
        if self.web is None:
            self._parts.push_async_callback(self.runtime.close)  # last out: what still posts has stopped
            self.web = await self._parts.enter_async_context(serving_web(self.runtime))

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        await self.start_web()
        assert self.web is not None, "start_web() serves or raises"
        settings = self.runtime.services.settings
        # logged once connected, so a start-up that stops (a rejected token) still prints its one line alone
        log.info("web server on http://%s:%s", settings.http_host, bound_port(self.web))
        for part in (heartbeat, outbound, reviews, scheduling, warming):
            await self._parts.enter_async_context(part(self.runtime))

    async def stop(self) -> None:
        await self._parts.aclose()
        self.web, self._started = None, False


async def start_relay(services: Services, limits: RelayLimits | None = None) -> Relay:
    """The drain relay of the default team (one drain URL per sitrep), reading its settings as they change."""

    async def loader() -> DrainConfig:
        team = await services.team_for(None)
        ctx = SkillContext(
            settings=services.settings, team=team, credentials=services.storage.credentials, storage=services.storage
        )
        return await load_config(ctx)

    relay = Relay(
        loader, services.storage.drain, limits, changes=services.storage.changes, supervisor=services.supervisor
    )
    await relay.start()
    return relay


@asynccontextmanager
async def serving_web(runtime: Runtime) -> AsyncIterator[web.AppRunner]:
    settings = runtime.services.settings
    runtime.drain = await start_relay(runtime.services)
    try:
        try:
            runner = await start_web(runtime, slack_notifier(runtime))
        except OSError as exc:
            raise StartupError(
                f"cannot serve on {settings.http_host}:{settings.http_port} ({exc.strerror or exc}); "
                "set SITREP_HTTP_PORT to a free port"
            ) from None
        try:
            yield runner
        finally:
            try:
                await asyncio.wait_for(runner.cleanup(), WEB_STOP_S)
            except TimeoutError:
                log.warning("the web server did not stop within %.0f s", WEB_STOP_S)
    finally:
        relay, runtime.drain = runtime.drain, None
        if relay is not None:
            await relay.stop()


@asynccontextmanager
async def heartbeat(runtime: Runtime) -> AsyncIterator[None]:
    replicas = runtime.services.storage.replicas
    await replicas.beat()
    beating = runtime.supervisor.spawn(_beat(runtime), "replica heartbeat", group="heartbeat")
    try:
        yield
    finally:
        beating.cancel()
        await asyncio.gather(beating, return_exceptions=True)
        try:
            await replicas.leave()
        except DatabaseUnavailable as exc:
            log.warning("could not remove this replica's heartbeat row (%s)", exc)


@asynccontextmanager
async def outbound(runtime: Runtime) -> AsyncIterator[None]:
    """Stopped with the Runtime (its close, last of all), so nothing that still posts outlives the sender."""
    poster, desk = runtime.poster(), runtime.alert_desk()
    if poster is not None:
        poster.start()  # posts and edits a previous run or a dead replica left in the outbox
    if desk is not None:
        desk.start()  # alert investigations left without a reply
    yield


@asynccontextmanager
async def reviews(runtime: Runtime) -> AsyncIterator[None]:
    services, settings = runtime.services, runtime.services.settings
    notify = slack_notifier(runtime)
    poller: Poller | None = None
    if webhook_mode(settings):
        log.info("GitHub: webhook mode (%s/github/webhook)", settings.public_url)
    else:
        log.info("GitHub: no webhooks (SITREP_PUBLIC_URL and GITHUB_WEBHOOK_SECRET), polling routed repos")
        poller = Poller(services, notify)
        poller.start(services.supervisor)
    deferred = DeferredReviews(services, notify)  # reviews a GitHub rate limit put off, either mode
    deferred.start(services.supervisor)
    try:
        yield
    finally:
        await deferred.stop()
        if poller is not None:
            await poller.stop()


@asynccontextmanager
async def scheduling(runtime: Runtime) -> AsyncIterator[None]:
    services = runtime.services

    async def run_job(job: Job, scheduled_for: datetime) -> str | None:
        return await run_scheduled_report(services, job, scheduled_for, poster=poster_of(runtime))

    async def ahead(job: Job) -> None:
        await before_slot(services, job)

    scheduler = ReportScheduler(
        services.storage.jobs,
        run_job,
        before_slot=ahead,
        watch_every=services.settings.heartbeat_seconds,
        supervisor=services.supervisor,
        changes=services.storage.config,
    )
    await scheduler.start()
    runtime.scheduler = scheduler
    try:
        yield
    finally:
        runtime.scheduler = None
        await scheduler.shutdown(timeout=SCHEDULER_STOP_S)


@asynccontextmanager
async def warming(runtime: Runtime) -> AsyncIterator[None]:
    task = runtime.supervisor.spawn(_warm(runtime.services), "warming the integrations", group="discovery")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _warm(services: Services) -> None:
    """Discover what the integrations have (data sources, labels, event names) while nobody waits for it, and
    check each one's readiness, so a Blocked one's tools are held back from the first question."""
    team = await services.team_for(None)
    for skill in await services.skills_for(team):
        try:
            await skill.warm()
        except Exception as exc:  # a failing integration says so when it is used; warming is best effort
            log.info("warming %s failed: %s", skill.name, exc)
        if skill.configured:
            await skill_readiness(skill)


async def _beat(runtime: Runtime) -> None:
    """Every SITREP_HEARTBEAT_SECONDS: say this replica is alive, and answer the events a replica silent for
    DEAD_BEATS heartbeats acked but never answered."""
    storage = runtime.services.storage
    every = runtime.services.settings.heartbeat_seconds
    ticks = 0
    while True:
        await asyncio.sleep(every)
        try:
            await storage.replicas.beat()
            for event in await storage.events.adopt(max(1, round(every * DEAD_BEATS))):
                await answer_adopted(runtime, event)
            ticks += 1
            if ticks % max(1, round(3600 / every)) == 1:  # about hourly
                await storage.events.prune()
                await storage.replicas.forget_stale()
                await storage.outbox.prune(time.time())
        except DatabaseUnavailable as exc:
            log.warning("heartbeat not written (%s); retrying in %.0f s", exc, every)
        except Exception:
            log.exception("heartbeat failed")


async def answer_adopted(runtime: Runtime, open_event: OpenEvent) -> None:
    """An event a replica acked and never answered: answered here (or, another bot's alert message, taken)."""
    body, client = open_event.body, runtime.slack
    event = body.get("event")
    if client is None or not isinstance(event, dict) or not event.get("channel"):
        await runtime.services.storage.events.finish(open_event.event_id)
        return
    if event.get("type") == "message" and candidate(event, runtime.slack_identity):
        log.info("taking event %s, another bot's message a replica acked before recording it", open_event.event_id)
        await take_alert_message(runtime, event, open_event.event_id)
        return
    log.info("answering event %s, acked by a replica that stopped before answering", open_event.event_id)
    source = "mention" if event.get("type") == "app_mention" else "dm"
    # one at a time, in the "answers" group so a shutdown lets it finish; cancelled with the heartbeat after that
    await spawn_answer(runtime, client, event, body, source)
