"""The "Scheduled reports" row of the readiness table: channel, jobs, scheduler, next slot, last outcome."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from skills.base import Readiness, ReadinessStatus
from storage.jobs import Job, JobRun, JobStore

if TYPE_CHECKING:
    from reports.scheduler import ReportScheduler
    from settings import Settings
    from storage.teams import Team

INTEGRATION = "Scheduled reports"
RUN_NOW_STEP = "`/sitrep report` posts one now"
RUN_NOW_ACTION = "report_run_now"  # the Home tab's "Run report now" button (bot/slack/report.py)
SET_CHANNEL = (
    "pick the report channel in Reports & schedule on the Home tab (admins), or set SITREP_REPORT_CHANNEL to a "
    "channel id (e.g. C0ADZHLL76V)"
)


class Membership(Protocol):
    """Whether sitrep can post in the report channel (bot/channels.py: ChannelAccess)."""

    @property
    def can_post(self) -> bool: ...

    @property
    def member(self) -> bool: ...

    @property
    def reason(self) -> str: ...

    @property
    def next_step(self) -> str: ...


def local_time(when: datetime, tz: str) -> str:
    """A slot as people read it in the job's time zone: "Thu 08:00 PST"."""
    return when.astimezone(ZoneInfo(tz)).strftime("%a %H:%M %Z")


def _names(jobs: Sequence[Job]) -> str:
    return ", ".join(job.name for job in jobs)


def describe_run(job: Job, run: JobRun) -> str:
    """One run as a clause: "last: Evening report Wed 20:00 PST posted" (or failed with the error)."""
    text = f"last: {job.name} {local_time(run.scheduled_at, job.timezone)} {run.status}"
    if run.status in ("failed", "missed") and run.error:
        text += f" ({run.error})"
    return text


async def reports_readiness(
    jobs: JobStore,
    team: Team,
    settings: Settings,
    scheduler: ReportScheduler | None,
    membership: Membership | None = None,
) -> Readiness:
    """Ready when a channel is set that sitrep can post in, the team's report jobs are enabled and the scheduler
    has their triggers. `membership` is the report channel's, when Slack could be asked."""
    channel = team.report_channel(settings)
    team_jobs = await jobs.list(team.id)
    enabled = [job for job in team_jobs if job.enabled]
    disabled = [job for job in team_jobs if not job.enabled]

    if not channel:
        detail = f"{_names(team_jobs)} exist but post nowhere until a channel is set" if team_jobs else ""
        return Readiness(INTEGRATION, ReadinessStatus.NOT_CONFIGURED, "no report channel", SET_CHANNEL, detail)
    if membership is not None and not membership.can_post:
        return Readiness(
            INTEGRATION,
            ReadinessStatus.BLOCKED,
            f"sitrep cannot post in the report channel {channel}: {membership.reason}",
            membership.next_step,
        )
    if not team_jobs:
        return Readiness(
            INTEGRATION,
            ReadinessStatus.BLOCKED,
            "no report jobs",
            "restart sitrep: it seeds the Morning and Evening report jobs at start-up",
        )
    if not enabled:
        if any(job.channel is None for job in disabled):
            step = "turn them on in Reports & schedule on the Home tab (admins); it saves the report channel with them"
        else:
            step = "turn them on in Reports & schedule on the Home tab (admins)"
        return Readiness(
            INTEGRATION,
            ReadinessStatus.BLOCKED,
            f"report jobs disabled: {_names(disabled)}",
            step,
            f"reports would post to {channel}",
        )
    if scheduler is None or not scheduler.running:
        return Readiness(
            INTEGRATION,
            ReadinessStatus.BLOCKED,
            "scheduler not running",
            "run sitrep as a service (`python app.py run`); the report scheduler starts with it",
            f"{_names(enabled)} enabled, posting to {channel}",
        )

    times = scheduler.next_fire_times()
    upcoming = sorted(
        ((when, job) for job in enabled if (when := times.get(job.id)) is not None), key=lambda pair: pair[0]
    )
    unscheduled = [job for job in enabled if times.get(job.id) is None]
    if not upcoming:
        return Readiness(
            INTEGRATION,
            ReadinessStatus.BLOCKED,
            f"scheduler has no trigger for {_names(unscheduled)}",
            "check the job's cron and time zone in sitrep's log; the scheduler re-reads jobs when they change",
        )

    when, job = upcoming[0]
    parts = [f"next: {job.name} {local_time(when, job.timezone)}"]
    last = await _last_run(jobs, team_jobs)
    if last is not None:
        parts.append(describe_run(*last))
    if disabled:
        parts.append(f"off: {_names(disabled)}")
    if unscheduled:
        parts.append(f"not scheduled: {_names(unscheduled)}")
    if membership is not None and not membership.member:
        parts.append(f"sitrep joins {channel} at the first post")
    return Readiness(INTEGRATION, ReadinessStatus.READY, "", RUN_NOW_STEP, "; ".join(parts), actions=(RUN_NOW_ACTION,))


async def _last_run(jobs: JobStore, team_jobs: Sequence[Job]) -> tuple[Job, JobRun] | None:
    latest: tuple[Job, JobRun] | None = None
    for job in team_jobs:
        run = await jobs.last_run(job.id)
        if run is not None and (latest is None or run.scheduled_for > latest[1].scheduled_for):
            latest = (job, run)
    return latest
