"""Build a status report: every section gathered concurrently, each with its own timeout, then the summary.

The result is a Report of plain data (reports/model.py); reports/render.py turns it into Block Kit or text and
reports/post.py posts it. A section that fails or has no data says so in one line; the report is still built.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, TypeVar
from zoneinfo import ZoneInfo

from metrics import REPORT_SECTIONS_FAILED
from reports.model import FAILED, Report, Section, failed, pending
from reports.sections.amplitude import KEY as AMPLITUDE_KEY
from reports.sections.amplitude import TITLE as AMPLITUDE_TITLE
from reports.sections.amplitude import amplitude_section
from reports.sections.changes import changes_listings, window_changes
from reports.sections.grafana import KEY as GRAFANA_KEY
from reports.sections.grafana import TITLE as GRAFANA_TITLE
from reports.sections.grafana import Window, grafana_section
from reports.summary import summarize
from skills.amplitude.skill import AmplitudeSkill
from skills.changes import ChangeWindow
from skills.grafana.skill import GrafanaSkill
from supervisor import Scope

if TYPE_CHECKING:
    from agent.services import Services
    from storage.teams import Team

log = logging.getLogger(__name__)

DEFAULT_TITLE = "Status report"

__all__ = ["DEFAULT_TITLE", "FirstPost", "Report", "ReportOptions", "build_report"]


@dataclass(frozen=True)
class ReportOptions:
    grafana_hours: float = 12  # a twice-daily report covers the 12 h since the last one
    buckets: int = 12  # sparkline bars per Grafana window
    amplitude_days: int = 7  # see reports/sections/amplitude.py for why not 1
    section_timeout: float = 45.0
    use_model: bool = True  # write the summary with the model when ANTHROPIC_API_KEY is set
    sections: tuple[str, ...] = (GRAFANA_KEY, AMPLITUDE_KEY)  # which sections the report includes

    @classmethod
    def for_job(cls, window_hours: float, sections: tuple[str, ...]) -> ReportOptions:
        """A scheduled job's report: its window (vs the one before) and sections. Amplitude compares whole days,
        at least 7 of them (see reports/sections/amplitude.py), so a weekly digest is 7 days vs the previous 7."""
        return cls(
            grafana_hours=window_hours,
            amplitude_days=max(cls.amplitude_days, round(window_hours / 24)),
            sections=tuple(s for s in sections if s in (GRAFANA_KEY, AMPLITUDE_KEY)) or cls.sections,
        )


@dataclass(frozen=True)
class FirstPost:
    """Post the report as it stands after `after_s` seconds when sections are still running (on-demand reports)."""

    after_s: float
    post: Callable[[Report], Awaitable[None]]


async def within_timeout(key: str, title: str, work: Awaitable[Section], timeout: float) -> Section:
    """A section within `timeout` seconds; a timeout or a bug becomes a failed section, never an exception."""
    try:
        async with asyncio.timeout(timeout):
            return await work
    except TimeoutError:
        return failed(
            key,
            title,
            f"{title} did not answer within {timeout:g} s",
            f"check that {title} is reachable from this host; the next report tries again",
        )
    except Exception as exc:
        log.exception("the %s section failed", title)
        return failed(key, title, f"the section failed ({type(exc).__name__})", "check sitrep's log")


def assemble(
    sections: list[Section],
    changes: asyncio.Future[ChangeWindow] | None,
    window: Window,
    tz: str,
    title: str,
    job: str | None,
    scheduled_for: datetime | None,
    end: datetime,
) -> Report:
    """The report around its sections (the window's changes beside the Grafana numbers), before its summary."""
    add_changes(sections, changes, window, tz)
    return Report(
        title=title,
        generated_at=end.astimezone(ZoneInfo(tz)),
        timezone=tz,
        sections=sections,
        job=job,
        scheduled_for=scheduled_for.astimezone(ZoneInfo(tz)) if scheduled_for else None,
    )


SkillT = TypeVar("SkillT", GrafanaSkill, AmplitudeSkill)


def add_changes(sections: list[Section], changes: asyncio.Future[ChangeWindow] | None, window: Window, tz: str) -> None:
    """The window's changes beside the error numbers (the Grafana section), and the change before each jump; left
    out when they are not read yet (a first look) or could not be read."""
    grafana = next((s for s in sections if s.key == GRAFANA_KEY and s.ok), None)
    if grafana is None or changes is None or not changes.done() or changes.cancelled():
        return
    if changes.exception() is not None:  # the report goes out without them
        log.error("reading changes failed", exc_info=changes.exception())
        return
    try:
        grafana.listings += changes_listings(changes.result(), grafana.figures, window.current.end, tz)
    except Exception:
        log.exception("matching changes to the jumps failed")


async def build_report(
    services: Services,
    team: Team,
    *,
    title: str = DEFAULT_TITLE,
    job: str | None = None,
    scheduled_for: datetime | None = None,
    now: datetime | None = None,
    amplitude_today: date | None = None,
    options: ReportOptions | None = None,
    first: FirstPost | None = None,
) -> Report:
    """The team's report for the window ending `now` (default: now).

    With `first`, a report whose sections are not all done after `first.after_s` seconds is handed to
    `first.post` as it stands (the slow sections "still gathering", the summary from the numbers), so a person who
    asked sees it at once; the finished report is returned as usual, for the caller to put in its place.
    """
    options = options or ReportOptions()
    started = time.monotonic()
    end = (now or datetime.now(UTC)).astimezone(UTC)
    tz = team.timezone(services.settings)
    window = Window(end, options.grafana_hours, options.buckets)
    work: dict[tuple[str, str], Awaitable[Section]] = {}
    # Every request of the report goes out in this first round: the sections' (each section issues all of its
    # own at once) and the window's changes, which wait on nothing; only matching them to the jumps waits.
    if GRAFANA_KEY in options.sections:
        grafana = await _skill(services, team, "grafana", GrafanaSkill)
        work[GRAFANA_KEY, GRAFANA_TITLE] = grafana_section(grafana, window)
    if AMPLITUDE_KEY in options.sections:
        amplitude = await _skill(services, team, "amplitude", AmplitudeSkill)
        work[AMPLITUDE_KEY, AMPLITUDE_TITLE] = amplitude_section(amplitude, options.amplitude_days, amplitude_today)
    async with Scope() as scope:  # leaving it (the first look's post failed, or this was cancelled) ends the rest
        tasks = {
            name: scope.start(within_timeout(*name, section, options.section_timeout), name[1])
            for name, section in work.items()
        }
        changes: asyncio.Task[ChangeWindow] | None = None
        if GRAFANA_KEY in options.sections:
            reading = window_changes(services, team, window.current.start, window.current.end)
            changes = scope.start(asyncio.wait_for(reading, options.section_timeout), "the window's changes")
        if first is not None and tasks:
            _, running = await asyncio.wait(tasks.values(), timeout=first.after_s)
            if running:
                now_sections = [
                    pending(*name, first.after_s) if task in running else task.result() for name, task in tasks.items()
                ]
                draft = assemble(now_sections, changes, window, tz, title, job, scheduled_for, end)
                draft.summary, draft.summary_source = await summarize(services, team, draft, use_model=False)
                await first.post(draft)
        sections = list(await asyncio.gather(*tasks.values()))
        if changes is not None:
            await asyncio.wait([changes])
    report = assemble(sections, changes, window, tz, title, job, scheduled_for, end)
    secrets = await _secrets(services) if options.use_model else []
    report.summary, report.summary_source = await summarize(
        services, team, report, use_model=options.use_model and secrets is not None, secrets=secrets or []
    )
    report.elapsed_s = round(time.monotonic() - started, 3)
    for section in report.sections:
        if section.status == FAILED:
            REPORT_SECTIONS_FAILED.labels(integration=section.title).inc()
    log.info("report built in %.2fs: %s", report.elapsed_s, ", ".join(f"{s.title} {s.status}" for s in report.sections))
    return report


async def _skill(services: Services, team: Team, name: str, kind: type[SkillT]) -> SkillT | None:
    """The team's skill of that kind; None (the section says so) when this build has none or it cannot be opened."""
    try:
        skill = await services.skill(team, name)
    except Exception:  # e.g. the credentials cannot be read: the section says the skill is missing, the log why
        log.exception("opening the %s skill failed", name)
        return None
    return skill if isinstance(skill, kind) else None


async def _secrets(services: Services) -> list[str] | None:
    """The values to redact from what the model sees; None when they cannot be read (the summary is then the
    template's: nothing goes to the model unredacted)."""
    try:
        return await services.secrets()
    except Exception:
        log.exception("reading the secrets to redact failed; the summary is written from the numbers")
        return None
