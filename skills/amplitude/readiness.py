"""Amplitude's readiness row: not configured, credentials rejected, no events yet, or events flowing.

"No events" is decided from the events list: the visible event types' `totals` (this week's volume). When those
add up to 0 while event types exist (early in the week, say), one cheap segmentation of '_all' (any event,
totals, daily, last 7 days; cost 7) settles it. No event type at all means nothing was ever sent.

When sitrep opened a pull request to instrument the app (`python -m skills.amplitude instrument`, or the Home
tab's Instrument button), the row names it: the one to merge and deploy while no events arrive, the one that did
it once they do.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from skills.amplitude.events import visible_by_volume
from skills.amplitude.snippet import EVENT_NAMES
from skills.base import Readiness, ReadinessStatus, SkillError

if TYPE_CHECKING:
    from skills.amplitude.api import AmplitudeProject
    from storage.instrumentation import InstrumentationPR

log = logging.getLogger(__name__)

INTEGRATION = "Amplitude"
READINESS_TIMEOUT = 8.0
SNIPPET_ACTION = "amplitude_snippet"
INSTRUMENT_ACTION = "amplitude_instrument"
NO_EVENTS = "the app sends no events yet"
INSTRUMENT_STEP = (
    f"instrument the app with the five recommended events ({', '.join(EVENT_NAMES)}): see "
    "`python -m skills.amplitude snippet` or the Home tab's “Show tracking snippet” button"
)


def _row(
    status: ReadinessStatus,
    missing: str,
    next_step: str,
    detail: str = "",
    actions: tuple[str, ...] = (),
    *,
    tools_usable: bool = True,
) -> Readiness:
    row = Readiness(INTEGRATION, status, missing, next_step, detail, tools_usable=tools_usable)
    if actions:
        row = replace(row, actions=actions)
    return row


async def check(skill: AmplitudeProject, timeout: float = READINESS_TIMEOUT) -> Readiness:
    """The readiness row, within `timeout` seconds; never raises."""
    if not skill.configured:
        unset = skill.missing_variables()
        return _row(
            ReadinessStatus.NOT_CONFIGURED,
            " and ".join(unset),
            f"set {' and '.join(unset)} (Amplitude → Settings → Projects → your project → API keys), "
            "or save the keys from the Home tab",
        )
    try:
        async with asyncio.timeout(timeout):
            return await _probe(skill)
    except TimeoutError:
        return _row(
            ReadinessStatus.BLOCKED,
            f"Amplitude did not answer within {timeout:g} s",
            f"check that {skill.base_url} is reachable, then refresh",
        )
    except SkillError as exc:
        if exc.status in (401, 403):
            return _row(
                ReadinessStatus.BLOCKED,
                "credentials rejected",
                f"check {' and '.join(skill.key_sources())}: the project's API key and secret key, and the region "
                f"({skill.region})",
                f"Amplitude answered HTTP {exc.status}",
                tools_usable=False,
            )
        return _row(ReadinessStatus.BLOCKED, exc.message, exc.hint or "Try again later")


async def _probe(skill: AmplitudeProject) -> Readiness:
    events = visible_by_volume(await skill.client.events_list(fresh=True))
    total = sum(e.totals for e in events)
    period = "this week"
    if not total and events:
        today = skill.today()
        series = await skill.client.segmentation("_all", today - timedelta(days=6), today, metric="totals")
        total, period = series.total, "in the last 7 days"
    pr = await _instrumented(skill)
    if not total:
        idle = f"; {_plural(len(events), 'event type')} defined but idle" if events else ""
        step, opened = INSTRUMENT_STEP, ""
        if pr is not None:
            step = (
                f"merge and deploy {pr.label} ({pr.url}), with AMPLITUDE_API_KEY set in the app's environment: "
                "the row turns Ready on the first events"
            )
            opened = f"; sitrep opened {pr.label} to instrument the app"
        return _row(
            ReadinessStatus.BLOCKED,
            NO_EVENTS,
            step,
            f"no events in the last 7 days{idle}{opened}",
            actions=(SNIPPET_ACTION,),
        )
    active = sum(1 for e in events if e.totals) or len(events)
    by = f"; instrumented by {pr.label} ({pr.url})" if pr is not None else ""
    return _row(
        ReadinessStatus.READY,
        "",
        "ask @sitrep about event trends, e.g. “how many Agent Failed this week?”",
        f"events flowing: {_plural(active, 'event type')}, {_plural(int(total), 'event')} {period}{by}",
    )


async def _instrumented(skill: AmplitudeProject) -> InstrumentationPR | None:
    try:
        return await skill.instrumented()
    except Exception as exc:  # the row still renders without it (a busy database retries on the next refresh)
        log.warning("the instrumentation pull request could not be read (%s): left out", type(exc).__name__)
        return None


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"
