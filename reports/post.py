"""Post a report through the poster (storage/poster.py: chat.postMessage, paced and durable), and the scheduler's
run_job: build the team's report and post it. A scheduled slot's post carries the key report:<job>:<slot>, so a
run taken over after a crash finds the post already made (or on its way) instead of posting it twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from metrics import REPORTS_POSTED
from reports.builder import DEFAULT_TITLE, FirstPost, ReportOptions, build_report
from reports.model import Report
from reports.render import fallback_text, report_blocks
from reports.since_last import since_section, snapshot_of
from storage.jobs import parse_slot, slot_key
from storage.poster import PRIORITY_REPORT, Poster, PostFailed, PostRef
from storage.report_snapshots import Snapshot

if TYPE_CHECKING:
    from agent.services import Services
    from settings import Settings
    from storage.jobs import Job
    from storage.teams import Team

log = logging.getLogger(__name__)

NO_CHANNEL = "no report channel: set SITREP_REPORT_CHANNEL (or reports.channel in the team config) to a channel id"
NO_TOKEN = "SLACK_BOT_TOKEN is not set: set it (xoxb-…) to post reports to Slack"
SLACK_HINTS = {
    "not_in_channel": "invite @sitrep to the channel",
    "channel_not_found": "check the channel id, and invite @sitrep if the channel is private",
    "is_archived": "the channel is archived: pick another report channel",
    "invalid_auth": "check SLACK_BOT_TOKEN",
    "not_authed": "check SLACK_BOT_TOKEN",
    "account_inactive": "the token was revoked: reinstall the app and update SLACK_BOT_TOKEN",
    "parent_failed": "the day's report thread could not be posted; check sitrep's log",
}


# Called with the channel before a report is built: makes sure it can be posted there, or raises.


class ReportError(Exception):
    """The report could not be posted: one line naming what is wrong and what to do."""


def report_channel(settings: Settings, team: Team, job: Job | None = None) -> str | None:
    """The job's channel, else the team's reports.channel, else SITREP_REPORT_CHANNEL."""
    return (job.channel if job is not None else None) or team.report_channel(settings)


def hint(error: str) -> str:
    if error.startswith("http_"):
        return "Slack (or a proxy in front of it) kept answering with an error page; try again in a minute"
    return SLACK_HINTS.get(error, "check sitrep's log")


async def post_report(
    poster: Poster,
    channel: str,
    report: Report,
    secrets: list[str] | None = None,
    thread_ts: str | None = None,
    *,
    key: str | None = None,
) -> tuple[str, PostRef]:
    """The report's blocks and fallback text handed to the poster (a reply in `thread_ts` when given); the message
    ts once posted, or ReportError."""
    secrets = secrets or []
    ref = await poster.post(
        channel,
        fallback_text(report, secrets),
        blocks=report_blocks(report, secrets),
        thread_ts=thread_ts or None,
        key=key,
        priority=PRIORITY_REPORT,
    )
    try:
        ts = await poster.sent(ref)
    except PostFailed as exc:
        raise ReportError(f"Slack refused chat.postMessage to {channel} ({exc.error}): {hint(exc.error)}") from None
    if not ts:
        raise ReportError(f"chat.postMessage to {channel} answered without a message ts")
    REPORTS_POSTED.inc()
    log.info("posted %s to %s (ts %s)", report.title, channel, ts)
    return ts, ref


async def build_and_post(
    services: Services,
    team: Team,
    channel: str,
    *,
    poster: Poster,
    title: str | None = None,
    job: Job | None = None,
    scheduled_for: datetime | None = None,
    first_post_after: float | None = None,
    thread_ts: str | None = None,
    prepare: Callable[[Report], None] | None = None,
    key: str | None = None,
) -> tuple[str, Report]:
    """Build the team's report and post it to `channel`: (message ts, report).

    The poster's channel check runs first (a public channel is joined; one sitrep cannot post in raises its
    line for a person), so a report that could not be posted is not built. With `first_post_after` (a person is
    waiting), a report still gathering after that many seconds is posted as it stands and then updated in place
    (chat.update) when every section is done.
    `prepare` changes the finished report before it is posted (a scheduled report's "since the last report"),
    `thread_ts` makes it a reply in that thread, and `key` makes the post idempotent.
    """
    await poster.join(channel)
    options = ReportOptions.for_job(job.window_hours, job.sections) if job is not None else None
    secrets = await services.secrets()
    posted: list[tuple[str, PostRef]] = []

    async def post_first(draft: Report) -> None:
        posted.append(await post_report(poster, channel, draft, secrets))

    report = await build_report(
        services,
        team,
        title=title or DEFAULT_TITLE,
        job=job.name if job else None,
        scheduled_for=scheduled_for,
        options=options,
        first=FirstPost(first_post_after, post_first) if first_post_after is not None else None,
    )
    if prepare is not None:
        prepare(report)
    if posted:
        ts, ref = posted[0]
        await update_report(poster, ref, report, secrets)
        return ts, report
    ts, _ = await post_report(poster, channel, report, secrets, thread_ts=thread_ts, key=key)
    return ts, report


async def update_report(poster: Poster, ref: PostRef, report: Report, secrets: list[str]) -> None:
    """The report posted early, edited to the finished one (chat.update, through the poster)."""
    await poster.edit(ref, fallback_text(report, secrets), blocks=report_blocks(report, secrets))
    log.info("the finished %s is on its way to %s (an edit of the early post)", report.title, ref.channel)


async def sibling_jobs(services: Services, team: Team, job: Job, channel: str) -> list[Job]:
    """The job and the team's other report jobs posting to the same channel: a report compares with the last one
    of these over the same window (the Evening report with the Morning one), and a day's thread gathers them."""
    jobs = await services.storage.jobs.list(team.id)
    return [j for j in jobs if j.id == job.id or report_channel(services.settings, team, j) == channel]


async def run_scheduled_report(services: Services, job: Job, scheduled_for: datetime, *, poster: Poster) -> str:
    """The scheduler's run_job: the message ts, or an exception whose one line goes into job_runs.error."""
    team = await services.storage.teams.get(job.team_id)
    channel = report_channel(services.settings, team, job)
    if not channel:
        raise ReportError(NO_CHANNEL)
    snapshots = services.storage.snapshots
    slot = slot_key(scheduled_for)
    day = scheduled_for.astimezone(ZoneInfo(job.timezone)).date().isoformat()
    siblings = await sibling_jobs(services, team, job, channel)
    previous = await snapshots.previous([j.id for j in siblings if j.window_hours == job.window_hours], slot)
    thread = await snapshots.thread_of_day([j.id for j in siblings], day, channel) if job.thread_per_day else None

    previous_at = parse_slot(previous.scheduled_for) if previous is not None else None
    investigated = await services.storage.alerts.between(team.id, previous_at, scheduled_for) if previous_at else []

    def since_last(report: Report) -> None:
        if previous is not None and previous_at is not None:
            report.sections.insert(0, since_section(previous.data, previous_at, report, investigated))

    ts, report = await build_and_post(
        services, team, channel, poster=poster, title=job.name, job=job, scheduled_for=scheduled_for,
        thread_ts=thread, prepare=since_last, key=f"report:{job.id}:{slot}",
    )  # fmt: skip
    try:
        await snapshots.save(
            Snapshot(job.id, slot, report.generated_at, day, channel, ts, thread or ts, snapshot_of(report))
        )
    except Exception:  # the report is posted: the next one then compares with an older one
        log.exception("saving the snapshot of %s failed", job.name)
    return ts
