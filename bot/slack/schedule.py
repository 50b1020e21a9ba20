"""Reports & schedule, and Add a report: admins change the report channel, times, time zones and sections.

Every change is one merge patch of reports.* through the config path (storage/config_changes.py), so it is
validated, audited, and every replica's scheduler follows (this one at once). Bad input comes back under its
field and nothing is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from agent.services import Services
from bot.blocks.config_menu import SCHEDULE_ACTION, message_modal
from bot.blocks.home_schedule import when
from bot.blocks.schedule import (
    ADD_REPORT_ACTION,
    ADD_REPORT_CALLBACK,
    CHANNEL_BLOCK,
    DAYS_BLOCK,
    JOB_CHANNEL_BLOCK,
    JOB_TZ_BLOCK,
    NAME_BLOCK,
    SCHEDULE_CALLBACK,
    SECTIONS_BLOCK,
    TIME_BLOCK,
    TZ_BLOCK,
    WINDOW_BLOCK,
    NewReport,
    ScheduleForm,
    add_report_modal,
    job_block,
    read_new_report,
    read_schedule,
    schedule_modal,
)
from bot.channels import check_access
from bot.runtime import Runtime
from bot.slack.context import runtime_of
from bot.slack.home import publish_home
from bot.slack.modals import admin_submission, open_for_admin, slack_team_of
from storage.team_config import ConfigInvalid, ReportJob
from storage.teams import Team

log = logging.getLogger(__name__)

NO_SECTIONS = "Pick at least one section: Grafana or Amplitude."


async def current_jobs(services: Services, team: Team) -> list[ReportJob]:
    """The team's reports as config entries: reports.jobs when set, else the seeded jobs (following the team).

    A seeded job that is off only because no channel was set yet reads as on: that is what it will do.
    """
    if team.config.reports.jobs is not None:
        return list(team.config.reports.jobs)
    jobs = await services.storage.jobs.list(team.id)
    return [
        job.spec(follows_team=True).model_copy(update={"enabled": job.enabled or job.channel is None}) for job in jobs
    ]


def zone_error(tz: str) -> str | None:
    if not tz:
        return "Enter a time zone, like Europe/Berlin."
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{tz[:64]} is not a time zone sitrep knows. Use an IANA name, like Europe/Berlin."
    return None


def schedule_errors(form: ScheduleForm) -> dict[str, str]:
    """Field errors of a submitted schedule, by block id; empty when it can be saved."""
    errors: dict[str, str] = {}
    if problem := zone_error(form.timezone):
        errors[TZ_BLOCK] = problem
    for i, job in enumerate(form.jobs):
        if not job.time:
            errors[job_block(i, TIME_BLOCK)] = "Pick a time."
        if problem := zone_error(job.timezone):
            errors[job_block(i, JOB_TZ_BLOCK)] = problem
        if not job.sections:
            errors[job_block(i, SECTIONS_BLOCK)] = NO_SECTIONS
    return errors


def apply_schedule(current: Sequence[ReportJob], form: ScheduleForm) -> list[ReportJob]:
    """The jobs with the form's edits; a job the form did not show stays as it is. A job's time zone equal to
    the team's is left unset, so it follows the team's from then on."""
    edits = {edit.name: edit for edit in form.jobs}
    jobs = []
    for job in current:
        edit = edits.get(job.name)
        if edit is None:
            jobs.append(job)
            continue
        changed = {
            "time": edit.time or job.time,
            "timezone": None if edit.timezone == form.timezone else edit.timezone,
            "enabled": edit.enabled,
            "sections": edit.sections,
            "thread_per_day": edit.thread_per_day,
        }
        jobs.append(ReportJob.model_validate({**job.model_dump(), **changed}))
    return jobs


def new_report_errors(report: NewReport, existing: Sequence[ReportJob]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not report.name:
        errors[NAME_BLOCK] = "Name the report."
    elif any(job.name.casefold() == report.name.casefold() for job in existing):
        errors[NAME_BLOCK] = f"There is already a report named {report.name}: pick another name."
    if not report.time:
        errors[TIME_BLOCK] = "Pick a time."
    if problem := zone_error(report.timezone):
        errors[JOB_TZ_BLOCK] = problem
    if not report.sections:
        errors[SECTIONS_BLOCK] = NO_SECTIONS
    return errors


ADD_REPORT_FIELDS = {
    "name": NAME_BLOCK,
    "days": DAYS_BLOCK,
    "time": TIME_BLOCK,
    "timezone": JOB_TZ_BLOCK,
    "channel": JOB_CHANNEL_BLOCK,
    "sections": SECTIONS_BLOCK,
    "window_hours": WINDOW_BLOCK,
}


def invalid(exc: ValidationError, fields: dict[str, str], fallback: str) -> dict[str, str]:
    """A report that does not validate (a payload the modal cannot produce) as errors under its fields."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        block = fields.get(field, fallback)
        message = str(error["msg"]).removeprefix("Value error, ")
        errors[block] = f"{errors[block]}; {message}"[:1500] if block in errors else message[:1500]
    return errors


def jobs_patch(jobs: Sequence[ReportJob], **team: str | None) -> dict[str, Any]:
    """The merge patch of reports.*: the whole job list (a JSON array is replaced), plus channel/timezone if given."""
    dumped = [job.model_dump(mode="json", exclude_defaults=True) for job in jobs]
    return {"reports": {**team, "jobs": dumped}}


async def channel_problem(client: AsyncWebClient, channel: str | None) -> str | None:
    """Why sitrep could not post in the chosen channel, as a field error; None when it can (or joins it)."""
    if not channel:
        return None
    access = await check_access(client, channel)
    if access.can_post:
        return None
    return f"sitrep cannot post there: {access.reason}. To fix it, {access.next_step}."


async def saved_lines(runtime: Runtime, team: Team, title: str) -> list[str]:
    """What was saved, with each report's next run as the scheduler now has it."""
    services = runtime.services
    tz = team.timezone(services.settings)
    scheduler = runtime.scheduler
    times = scheduler.next_fire_times() if scheduler is not None and scheduler.running else {}
    lines = [f":white_check_mark: *Saved.* {title}"]
    for job in (await services.storage.jobs.list(team.id))[:20]:
        at = times.get(job.id)
        lines.append(f"• *{job.name}*: " + (f"next {when(at, tz)}" if at else "off" if not job.enabled else "saved"))
    return lines


async def save(
    runtime: Runtime, ack: AsyncAck, team: Team, patch: dict, user: str, title: str, fallback_block: str
) -> bool:
    """Store the patch (validated, audited, scheduler resynced) and show what was saved; False when invalid."""
    try:
        team = await runtime.services.storage.config.patch(team.id, patch, user)
    except ConfigInvalid as exc:
        await ack(response_action="errors", errors={fallback_block: "; ".join(exc.problems)[:1500]})
        return False
    log.info("%s changed by %s", title, user)
    await ack(response_action="update", view=message_modal(title, await saved_lines(runtime, team, title)))
    return True


async def open_schedule(services: Services, body: dict, client: AsyncWebClient) -> None:
    """The Reports & schedule modal (Home tab, Configure menu, `/sitrep config`), filled for admins only."""
    view_id = await open_for_admin(services, client, body, "Reports & schedule")
    if view_id is None:
        return
    team = await services.team_for(slack_team_of(body))
    view = schedule_modal(
        await current_jobs(services, team),
        channel=team.report_channel(services.settings),
        timezone=team.timezone(services.settings),
    )
    await client.views_update(view_id=view_id, view=view)


async def on_open_schedule(ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    services = runtime_of(context).services
    await ack()
    await open_schedule(services, body, client)


async def on_open_add(ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    services = runtime_of(context).services
    await ack()
    view_id = await open_for_admin(services, client, body, "Add a report")
    if view_id is None:
        return
    team = await services.team_for(slack_team_of(body))
    await client.views_update(view_id=view_id, view=add_report_modal(timezone=team.timezone(services.settings)))


async def on_schedule(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    if (admin := await admin_submission(ack, body, client, context)) is None:
        return
    runtime, team, user = admin
    services = runtime.services
    form = read_schedule((view.get("state") or {}).get("values") or {}, view.get("private_metadata") or "")
    errors = schedule_errors(form)
    if problem := await channel_problem(client, form.channel):
        errors[CHANNEL_BLOCK] = problem
    if errors:
        await ack(response_action="errors", errors=errors)
        return
    try:
        jobs = apply_schedule(await current_jobs(services, team), form)
    except ValidationError as exc:  # a payload the modal cannot produce: say so, store nothing
        await ack(response_action="errors", errors=invalid(exc, {}, TZ_BLOCK))
        return
    patch = jobs_patch(jobs, channel=form.channel, timezone=form.timezone)
    if await save(runtime, ack, team, patch, user, "Reports & schedule", TZ_BLOCK):
        await publish_home(runtime, client, user, slack_team_of(body))


async def on_add(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    if (admin := await admin_submission(ack, body, client, context)) is None:
        return
    runtime, team, user = admin
    services = runtime.services
    report = read_new_report((view.get("state") or {}).get("values") or {})
    existing = await current_jobs(services, team)
    errors = new_report_errors(report, existing)
    if problem := await channel_problem(client, report.channel or team.report_channel(services.settings)):
        errors[JOB_CHANNEL_BLOCK] = problem
    if errors:
        await ack(response_action="errors", errors=errors)
        return
    tz = team.timezone(services.settings)
    try:
        new = ReportJob.model_validate(
            {
                "name": report.name,
                "time": report.time or "09:00",
                "days": report.days,
                "timezone": None if report.timezone == tz else report.timezone,
                "channel": report.channel,
                "sections": report.sections,
                "window_hours": report.window_hours,
            }
        )
    except ValidationError as exc:
        await ack(response_action="errors", errors=invalid(exc, ADD_REPORT_FIELDS, NAME_BLOCK))
        return
    patch = jobs_patch([*existing, new])
    if await save(runtime, ack, team, patch, user, f"Added {report.name}"[:24], NAME_BLOCK):
        await publish_home(runtime, client, user, slack_team_of(body))


def register(app: AsyncApp) -> None:
    app.action(SCHEDULE_ACTION)(on_open_schedule)
    app.action(ADD_REPORT_ACTION)(on_open_add)
    app.view(SCHEDULE_CALLBACK)(on_schedule)
    app.view(ADD_REPORT_CALLBACK)(on_add)
