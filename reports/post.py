"""Post a report with chat.postMessage, and the scheduler's run_job: build the team's report and post it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from metrics import REPORTS_POSTED
from reports.builder import DEFAULT_TITLE, FirstPost, ReportOptions, build_report
from reports.model import Report
from reports.render import fallback_text, report_blocks
from reports.since_last import since_section, snapshot_of
from storage.jobs import parse_slot, slot_key
from storage.report_snapshots import Snapshot

if TYPE_CHECKING:
    from settings import Settings
    from skills.services import Services
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
    "ratelimited": "Slack rate-limited the post: the next report tries again",
}


# Called with (client, channel) before a report is built: makes sure it can be posted there, or raises.
BeforePost = Callable[[AsyncWebClient, str], Awaitable[Any]]


class ReportError(Exception):
    """The report could not be posted: one line naming what is wrong and what to do."""


def report_channel(settings: Settings, team: Team, job: Job | None = None) -> str | None:
    """The job's channel, else the team's reports.channel, else SITREP_REPORT_CHANNEL."""
    return (job.channel if job is not None else None) or team.report_channel(settings)


def slack_client(services: Services) -> AsyncWebClient:
    """The Web API client reports post with (built once, handed in through Services); ReportError without one."""
    if services.slack is None:
        raise ReportError(NO_TOKEN)
    return services.slack


async def post_report(
    client: AsyncWebClient, channel: str, report: Report, secrets: list[str] | None = None, thread_ts: str | None = None
) -> str:
    """chat.postMessage with the report's blocks and fallback text (a reply in `thread_ts` when given); the
    message ts, or ReportError."""
    secrets = secrets or []
    try:
        result = await client.chat_postMessage(
            channel=channel,
            text=fallback_text(report, secrets),
            blocks=report_blocks(report, secrets),
            unfurl_links=False,
            unfurl_media=False,
            thread_ts=thread_ts or None,
        )
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "unknown_error")
        hint = SLACK_HINTS.get(error, "check sitrep's log")
        raise ReportError(f"Slack refused chat.postMessage to {channel} ({error}): {hint}") from None
    ts = result.get("ts")
    if not ts:
        raise ReportError(f"chat.postMessage to {channel} answered without a message ts")
    REPORTS_POSTED.inc()
    log.info("posted %s to %s (ts %s)", report.title, channel, ts)
    return str(ts)


async def build_and_post(
    services: Services,
    team: Team,
    channel: str,
    *,
    client: AsyncWebClient | None = None,
    title: str | None = None,
    job: Job | None = None,
    scheduled_for: datetime | None = None,
    before_post: BeforePost | None = None,
    first_post_after: float | None = None,
    thread_ts: str | None = None,
    prepare: Callable[[Report], None] | None = None,
) -> tuple[str, Report]:
    """Build the team's report and post it to `channel`: (message ts, report).

    `before_post` runs first (the Slack surfaces pass the channel-membership check), so a report that could not
    be posted is not built. With `first_post_after` (a person is waiting), a report still gathering after that
    many seconds is posted as it stands and then updated in place (chat.update) when every section is done.
    `prepare` changes the finished report before it is posted (a scheduled report's "since the last report"), and
    `thread_ts` makes it a reply in that thread.
    """
    client = client or slack_client(services)
    if before_post is not None:
        await before_post(client, channel)
    options = ReportOptions.for_job(job.window_hours, job.sections) if job is not None else None
    secrets = await services.secrets()
    posted: list[str] = []

    async def post_first(draft: Report) -> None:
        posted.append(await post_report(client, channel, draft, secrets))

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
        await update_report(client, channel, posted[0], report, secrets)
        return posted[0], report
    ts = await post_report(client, channel, report, secrets, thread_ts=thread_ts)
    return ts, report


async def update_report(client: AsyncWebClient, channel: str, ts: str, report: Report, secrets: list[str]) -> None:
    """chat.update the report posted early with the finished one; ReportError when Slack refuses."""
    try:
        await client.chat_update(
            channel=channel, ts=ts, text=fallback_text(report, secrets), blocks=report_blocks(report, secrets)
        )
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "unknown_error")
        raise ReportError(
            f"the report was posted early, but Slack refused chat.update of it ({error}): run the report again"
        ) from None
    log.info("updated %s in %s (ts %s) with the finished report", report.title, channel, ts)


async def sibling_jobs(services: Services, team: Team, job: Job, channel: str) -> list[Job]:
    """The job and the team's other report jobs posting to the same channel: a report compares with the last one
    of these over the same window (the Evening report with the Morning one), and a day's thread gathers them."""
    jobs = await services.jobs.list(team.id)
    return [j for j in jobs if j.id == job.id or report_channel(services.settings, team, j) == channel]


async def run_scheduled_report(
    services: Services, job: Job, scheduled_for: datetime, *, before_post: BeforePost | None = None
) -> str:
    """The scheduler's run_job: the message ts, or an exception whose one line goes into job_runs.error."""
    team = await services.teams.get(job.team_id)
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
        services, team, channel, title=job.name, job=job, scheduled_for=scheduled_for, before_post=before_post,
        thread_ts=thread, prepare=since_last,
    )  # fmt: skip
    try:
        await snapshots.save(
            Snapshot(job.id, slot, report.generated_at, day, channel, ts, thread or ts, snapshot_of(report))
        )
    except Exception:  # the report is posted: the next one then compares with an older one
        log.exception("saving the snapshot of %s failed", job.name)
    return ts
