"""A report is one round of requests: seen from the doubles, every request it makes arrives before any is answered.

The doubles hold every request (an Event each waits on) and the test waits until the report has sent all it sends
when nothing is held; a request that waited on another's answer would never arrive (and the wait times out).
Then the answers go, and nothing but discovery's refresh behind the report may follow.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from agent.services import Services
from reports.builder import ReportOptions, build_report
from reports.model import Report
from reports.warm import before_slot
from settings import Settings
from storage.services import open_storage
from tests.fakes.amplitude import FakeAmplitude
from tests.fakes.grafana import FakeGrafana
from tests.fakes.grafana_annotations import annotation
from tests.support import report_data as rd

ROUND_WAIT_S = 10.0  # a request that waits on another's answer never arrives while they are held: fail then
DISCOVERY = ("/api/datasources", "/loki/api/v1/labels", "/api/v1/label/__name__/values")
AMPLITUDE_AT_ONCE = 5  # Amplitude runs 5 requests of a project at once


@dataclass
class Upstreams:
    grafana: FakeGrafana
    amp: FakeAmplitude
    env: dict[str, str]
    end: datetime

    async def services(self) -> Services:
        settings = Settings.from_env(self.env)
        return Services(settings=settings, storage=await open_storage(settings), skill_factories=rd.report_factories())

    def counts(self) -> tuple[int, int]:
        return len(self.grafana.requests), len(self.amp.requests)


@pytest.fixture
async def upstreams(env: dict[str, str]) -> AsyncIterator[Upstreams]:
    async with FakeGrafana() as grafana, FakeAmplitude() as amp:
        end = datetime.now(UTC)
        rd.seed_all(grafana, amp, end)
        grafana.loki_patterns = True  # Loki 3: its patterns, the counts that check them and the lines, all at once
        at = int((end - timedelta(hours=3)).timestamp() * 1000)
        grafana.annotations.append(annotation(7, at, "Deployed v2.3", dashboard_uid="web"))
        yield Upstreams(grafana, amp, {**env, **rd.fake_env(grafana, amp)}, end)


async def report(services: Services, end: datetime) -> Report:
    team = await services.team_for(None)
    return await build_report(services, team, now=end, options=ReportOptions(use_model=False))


async def held_round(up: Upstreams, services: Services, grafana_calls: int, amplitude_calls: int) -> Report:
    """A report with every upstream request held until all `grafana_calls` and `amplitude_calls` have arrived."""
    start_g, start_a = up.counts()
    arrived = asyncio.Event()

    def seen(_: object) -> None:
        g, a = up.counts()
        if g - start_g >= grafana_calls and a - start_a >= amplitude_calls:
            arrived.set()

    up.grafana.hold, up.amp.hold = asyncio.Event(), asyncio.Event()
    up.grafana.on_request = up.amp.on_request = seen
    building = asyncio.create_task(report(services, up.end))
    try:
        await asyncio.wait_for(arrived.wait(), ROUND_WAIT_S)
    except TimeoutError:
        g, a = up.counts()
        late = f"{g - start_g} of {grafana_calls} Grafana and {a - start_a} of {amplitude_calls} Amplitude requests"
        pytest.fail(f"only {late} went out before any answer: the rest waited on an answer")
    finally:
        up.grafana.hold.set()
        up.amp.hold.set()
    return await building


async def test_a_warm_report_is_one_round_and_amplitude_fits_its_five(upstreams: Upstreams) -> None:
    services = await upstreams.services()
    try:
        await report(services, upstreams.end)  # a process's first report (discovers)
        await services.supervisor.settle("discovery")
        g0, a0 = upstreams.counts()
        await report(services, upstreams.end)  # warm, nothing held: what one report asks
        g1, a1 = upstreams.counts()
        grafana_calls, amplitude_calls = g1 - g0, a1 - a0
        assert amplitude_calls <= AMPLITUDE_AT_ONCE
        warm = await held_round(upstreams, services, grafana_calls, amplitude_calls)
        await services.supervisor.settle("discovery")
        assert upstreams.counts() == (g1 + grafana_calls, a1 + amplitude_calls)  # nothing after the round
        assert upstreams.amp.max_in_flight <= AMPLITUDE_AT_ONCE
        paths = upstreams.grafana.paths()[g1:]
        for wanted in ("/api/annotations", "/loki/api/v1/patterns", "/api/v1/query_range", "/api/v1/rules"):
            assert any(p.endswith(wanted) for p in paths), (wanted, paths)
        grafana = warm.section("grafana")
        assert grafana is not None and grafana.ok, grafana
        assert any(x.title.startswith("Changes") for x in grafana.listings)  # the annotation, from that round
    finally:
        await services.close()


async def test_held_annotations_hold_the_report_one_delay_not_a_chain(upstreams: Upstreams) -> None:
    """Annotations held, everything else answered at once: every other request has been answered while the
    annotations are still held, and none is sent after them, so the report takes one annotation delay."""
    services = await upstreams.services()
    try:
        await report(services, upstreams.end)
        await services.supervisor.settle("discovery")
        g0, _ = upstreams.counts()
        await report(services, upstreams.end)
        calls = upstreams.counts()[0] - g0
        held = upstreams.grafana.holds["/api/annotations"] = asyncio.Event()
        mark = len(upstreams.grafana.requests)
        everything_else = asyncio.Event()
        upstreams.grafana.on_request = lambda _: (
            everything_else.set() if len(upstreams.grafana.requests) - mark >= calls else None
        )
        building = asyncio.create_task(report(services, upstreams.end))
        await asyncio.wait_for(everything_else.wait(), ROUND_WAIT_S)
        paths = upstreams.grafana.paths()[mark:]
        assert any(p == "/api/annotations" for p in paths)
        assert not building.done()  # it waits for the annotations only
        held.set()
        built = await building
        await services.supervisor.settle("discovery")
        assert len(upstreams.grafana.requests) - mark == calls  # nothing was sent after the annotations answered
        grafana = built.section("grafana")
        assert grafana is not None and any(x.title.startswith("Changes") for x in grafana.listings)
    finally:
        await services.close()


async def test_the_first_report_after_a_restart_is_one_round(upstreams: Upstreams) -> None:
    """What the last process discovered is in the database: the first report since start queries with it at once,
    and only discovery's refresh (data sources, then labels and metric names) follows it."""
    first = await upstreams.services()
    try:
        await report(first, upstreams.end)
        await first.supervisor.settle("discovery")
        g0, a0 = upstreams.counts()
        await report(first, upstreams.end)
        g1, a1 = upstreams.counts()
    finally:
        await first.close()
    restarted = await upstreams.services()
    try:
        mark = len(upstreams.grafana.requests)
        # one round: the warm report's requests, and the refresh's first look (the data sources) beside them
        built = await held_round(upstreams, restarted, g1 - g0 + 1, a1 - a0)
        await restarted.supervisor.settle("discovery")
        behind = [p for p in upstreams.grafana.paths()[mark + g1 - g0 + 1 :]]
        assert behind and all(p.endswith(DISCOVERY) for p in behind), behind
        grafana = built.section("grafana")
        assert grafana is not None and grafana.ok, grafana
    finally:
        await restarted.close()


async def test_a_slot_readied_ahead_starts_warm(upstreams: Upstreams) -> None:
    """The minute before a scheduled slot the job's discovery is refreshed (reports/warm.py): the report at the slot
    asks none of it, even in a process that has made no report yet."""
    services = await upstreams.services()
    try:
        team = await services.team_for(None)
        job = next(j for j in await services.storage.jobs.list(team.id) if j.name == "Morning report")
        await before_slot(services, job)
        assert [p for p in upstreams.grafana.paths() if p.endswith(DISCOVERY)]  # looked up ahead
        mark = len(upstreams.grafana.requests)
        options = ReportOptions.for_job(job.window_hours, job.sections)
        built = await build_report(services, team, now=upstreams.end, options=options)
        await services.supervisor.settle("discovery")
        assert not [p for p in upstreams.grafana.paths()[mark:] if p.endswith(DISCOVERY)]
        grafana = built.section("grafana")
        assert grafana is not None and grafana.ok, grafana
    finally:
        await services.close()
