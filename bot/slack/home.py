"""The Home tab: published on app_home_opened and on the Refresh button.

Readiness first, then sections: config buttons (or a read-only note for non-admins), Claude's week (calls by
feature, estimated cost, today's tokens against the budget), the schedule (next and last run per job, from the
Runtime's scheduler), the last config changes; the tracking-snippet modal opens from here.
An admin also sees "Instrument owner/name" on the Amplitude row while the app sends no events and a repository is
linked (bot/slack/instrument.py).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from agent.model_client import model_ready
from agent.services import Services
from agent.usage import spend
from bot.blocks.home import REFRESH_ACTION, home_view
from bot.blocks.home_schedule import JobStatus, LastRun, config_blocks, history_blocks, schedule_blocks
from bot.blocks.home_usage import usage_blocks
from bot.blocks.instrument import instrument_buttons, offered
from bot.blocks.snippet import SNIPPET_CALLBACK_ID as SNIPPET_ACTION
from bot.blocks.snippet import snippet_modal
from bot.readiness import readiness_table
from bot.runtime import Runtime
from bot.slack.admins import is_admin
from bot.slack.context import runtime_of
from bot.slack.modals import redacted
from bot.slack_client import error_of
from storage.teams import Team

log = logging.getLogger(__name__)


def permalink(runtime: Runtime, channel: str | None, ts: str | None) -> str | None:
    """The link to a posted message, from the workspace URL auth.test gave at start-up."""
    base = (runtime.slack_identity or {}).get("url")
    if not (base and channel and ts):
        return None
    return f"{str(base).rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"


async def job_statuses(runtime: Runtime, team: Team) -> list[JobStatus]:
    """Each of the team's report jobs with its next run (from the running scheduler) and its last run."""
    services = runtime.services
    scheduler = runtime.scheduler
    times = scheduler.next_fire_times() if scheduler is not None and scheduler.running else {}
    statuses = []
    for job in await services.storage.jobs.list(team.id):
        spec, run = job.spec(), await services.storage.jobs.last_run(job.id)
        last = None
        if run is not None:
            link = permalink(runtime, run.channel, run.message_ts) if run.status == "posted" else None
            last = LastRun(run.status, run.scheduled_at, link, run.error)
        statuses.append(
            JobStatus(
                name=job.name,
                time=spec.time,
                days=spec.days,
                timezone=job.timezone,
                channel=job.channel,
                enabled=job.enabled,
                window_hours=job.window_hours,
                sections=job.sections,
                next_run=times.get(job.id) if job.enabled else None,
                last=last,
            )
        )
    return statuses


async def home_sections(runtime: Runtime, team: Team, admin: bool) -> list[list]:
    """The Home tab's sections after readiness: config buttons (or read-only), Claude's week, the schedule, recent
    changes."""
    services = runtime.services
    tz_name = team.timezone(services.settings)
    statuses = await job_statuses(runtime, team)
    history = await services.storage.audit.recent(team.id, limit=50)
    claude = usage_blocks(await spend(services, team), ready=model_ready(services.settings))
    return [config_blocks(admin), claude, schedule_blocks(statuses, tz_name), history_blocks(history, tz_name)]


async def publish_home(runtime: Runtime, client: AsyncWebClient, user_id: str, slack_team_id: str | None) -> None:
    services = runtime.services
    team = await services.team_for(slack_team_id)
    rows, admin, repos = await asyncio.gather(
        readiness_table(runtime, team), is_admin(services, client, user_id), linked_repos(services, team)
    )
    sections = await home_sections(runtime, team, admin)
    tz_name = team.timezone(services.settings)
    extra = {row.integration: instrument_buttons(offered(row, repos, admin)) for row in rows}
    view = home_view(
        rows,
        generated_at=datetime.now(ZoneInfo(tz_name)),
        timezone_name=tz_name,
        sections=sections,
        row_buttons={k: v for k, v in extra.items() if v},
    )
    view = await redacted(services, view)
    try:
        await client.views_publish(user_id=user_id, view=view)
    except SlackApiError as exc:
        log.error("views.publish for %s failed: %s", user_id, error_of(exc))


async def linked_repos(services: Services, team: Team) -> list[str]:
    """The repositories routed to the team through its linked GitHub installation (none without a link)."""
    github = await services.skill(team, "github")
    link, repos = getattr(github, "link", None), getattr(github, "repos", None)
    return list(repos) if link is not None and isinstance(repos, list) else []


async def on_home_opened(event: dict, body: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    runtime = runtime_of(context)
    user = event.get("user")
    if event.get("tab", "home") != "home" or not user:
        return
    await publish_home(runtime, client, user, body.get("team_id"))


async def on_snippet(ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    services = runtime_of(context).services
    await ack()
    team = await services.team_for((body.get("team") or {}).get("id"))
    region = team.config.amplitude.region or services.settings.amplitude_region
    # the builder is pure and fast: the modal opens well inside the trigger's 3 s
    await client.views_open(trigger_id=body["trigger_id"], view=snippet_modal(region=region))


async def on_refresh(ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    runtime = runtime_of(context)
    await ack()
    user = (body.get("user") or {}).get("id")
    if user:
        await publish_home(runtime, client, user, (body.get("team") or {}).get("id"))


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(on_home_opened)
    app.action(SNIPPET_ACTION)(on_snippet)
    app.action(REFRESH_ACTION)(on_refresh)
