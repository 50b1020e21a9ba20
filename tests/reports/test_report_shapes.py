"""A report always posts: whatever valid shape Amplitude, Prometheus, Loki and Grafana answer with (empty series,
seriesLabels [], "(none)" groups, nulls; an empty result, series without samples, "NaN"/"+Inf"/"-Inf" samples,
scalars; no streams, {"status": "success"} without data, a matrix without values; no alert rules; a data source
missing, or removed while sitrep runs), the real client, parsing and rendering path builds the report, each section
is ok or says "failed: <reason>" / "no data: <reason>", and the summary never raises (property-based, hypothesis).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, given, settings

from agent.services import Services
from reports.builder import ReportOptions, build_report
from reports.model import Figure, Item, Listing, Report, Section
from reports.render import (
    MESSAGE_BLOCKS_MAX,
    fallback_text,
    report_blocks,
    report_text,
    section_mrkdwn,
    template_summary,
)
from settings import Settings
from storage.services import open_storage
from tests.fakes.amplitude import FakeAmplitude
from tests.fakes.grafana import FakeGrafana
from tests.support import report_data as rd
from tests.support import shapes
from tests.support.loop_thread import LoopThread
from text.mrkdwn import SECTION_TEXT_MAX

SHAPES = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TODAY = datetime.now(UTC).date()


@dataclass
class Upstreams:
    loop: LoopThread
    grafana: FakeGrafana
    amp: FakeAmplitude
    services: Services
    end: datetime

    def report(self, world: shapes.World) -> Report:
        return self.loop.run(self._report(world))

    async def _report(self, world: shapes.World) -> Report:
        team = await self.services.team_for(None)
        options = ReportOptions(use_model=False, section_timeout=20)
        world.amplitude_answers(self.amp)
        grafana = await self.services.skill(team, "grafana")
        assert grafana is not None
        grafana.client.discovery.forget()  # type: ignore[attr-defined]
        world.grafana_before(self.grafana)
        if world.datasources.endswith("removed"):  # sitrep looked while it was there (and finished looking)
            await build_report(self.services, team, now=self.end, amplitude_today=TODAY, options=options)
            await self.services.supervisor.settle("discovery")
        world.grafana_after(self.grafana)
        return await build_report(self.services, team, now=self.end, amplitude_today=TODAY, options=options)


@pytest.fixture(scope="module")
def upstreams(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstreams]:
    loop = LoopThread()
    tmp = tmp_path_factory.mktemp("shapes")
    end = datetime.now(UTC)

    async def start() -> Upstreams:
        grafana, amp = await FakeGrafana().start(), await FakeAmplitude(today=TODAY).start()
        rd.seed_logs(grafana, rd.default_logs(), end)
        rd.seed_latency(grafana, rd.default_latency(), end)
        rd.seed_agents(amp, rd.default_agents(TODAY))
        env = {"SITREP_DB": str(Path(tmp) / "shapes.db"), "SITREP_SECRET_KEY": Fernet.generate_key().decode()}
        settings_ = Settings.from_env({**env, **rd.fake_env(grafana, amp)})
        services = Services(
            settings=settings_, storage=await open_storage(settings_), skill_factories=rd.report_factories()
        )
        return Upstreams(loop, grafana, amp, services, end)

    up = loop.run(start())
    try:
        yield up
    finally:

        async def stop() -> None:
            await up.services.close()
            await up.grafana.stop()
            await up.amp.close()

        loop.run(stop())
        loop.close()


@SHAPES
@given(world=shapes.worlds(TODAY))
def test_every_documented_shape_gives_a_report_that_posts(upstreams: Upstreams, world: shapes.World) -> None:
    rd.seed_alerts(upstreams.grafana)
    report = upstreams.report(world)
    check_report(report, world)


def check_report(report: Report, world: shapes.World) -> None:
    assert [s.key for s in report.sections] == ["grafana", "amplitude"]
    for section in report.sections:
        assert section.status in ("ok", "no_data", "failed"), section
        line = section_mrkdwn(section)
        if not section.ok:  # the rule: one line that says why
            assert section.reason and section.next_step, section
            assert f"*{section.title}* {'failed' if section.status == 'failed' else 'no data'}: " in line
            assert "could not be shown" not in line, line  # a shape the renderer did not expect is a bug
        assert "the section failed (" not in section.reason, section  # a shape the section did not expect
        for figure in section.figures:  # NaN, ±Inf and nulls never become a number
            assert figure.value is None or math.isfinite(figure.value), figure
            assert figure.previous is None or math.isfinite(figure.previous), figure
    blocks = report_blocks(report)
    assert len(blocks) <= MESSAGE_BLOCKS_MAX
    assert all(len(b.get("text", {}).get("text", "")) <= SECTION_TEXT_MAX for b in blocks)
    text, summary = report_text(report), report.summary
    assert fallback_text(report) and summary
    assert not re.search(r"\b(nan|inf)\b", summary.lower()), summary
    # a series Amplitude sent without its label (or for events without the property) is never the "top" one
    assert "top error_type (unlabelled" not in summary and "top error_type (none)" not in summary, summary
    grafana = report.section("grafana")
    assert grafana is not None
    # a data source removed while running is looked up again at once, never "not found: …/proxy/uid/… (404)"
    assert "/api/datasources/proxy/uid/" not in text, text
    if world.datasources == "prometheus removed" and world.metric_names == shapes.NATURAL and grafana.ok:
        # it had a histogram, so the report asked for it: the 404 made it look again within this report (with
        # no histogram, nothing asks Prometheus: the refresh behind the report finds it gone)
        assert "p95 latency: no Prometheus data source in Grafana" in grafana.lines, grafana.lines
    if world.datasources in ("loki removed", "no loki", "none"):
        assert grafana.status == "no_data" and grafana.reason == "Grafana has no Loki data source", grafana


@pytest.mark.parametrize("removed", ["prometheus", "loki"])
def test_a_data_source_removed_while_running_is_looked_up_again_in_that_report(
    upstreams: Upstreams, removed: str
) -> None:
    rd.seed_alerts(upstreams.grafana)
    world = shapes.World(datasources=f"{removed} removed")
    report = upstreams.report(world)
    check_report(report, world)
    grafana = report.section("grafana")
    assert grafana is not None
    if removed == "prometheus":
        assert grafana.ok and "p95 latency: no Prometheus data source in Grafana" in grafana.lines
    else:
        assert grafana.status == "no_data" and grafana.reason == "Grafana has no Loki data source"


def test_an_amplitude_week_without_failures_posts_with_no_top_error_type(upstreams: Upstreams) -> None:
    """The fault as reported: the group-bys answer empty series (no Agent Failed, no API Error this week)."""
    empty = {"data": {"series": [], "seriesLabels": [], "seriesCollapsed": [], "seriesMeta": [], "xValues": []}}
    empty["data"]["xValues"] = shapes.days_of(TODAY)
    world = shapes.World(amplitude={("Agent Failed", True): empty, ("API Error", True): empty})
    report = upstreams.report(world)
    check_report(report, world)
    amplitude = report.section("amplitude")
    assert amplitude is not None and amplitude.ok
    listing = next(x for x in amplitude.listings if x.title.startswith("Top error_type"))
    assert listing.items == [] and "◦ _none in the window_" in section_mrkdwn(amplitude)
    assert "top error_type" not in report.summary


def test_series_without_labels_are_not_named_by_position(upstreams: Upstreams) -> None:
    days = shapes.days_of(TODAY)
    unlabelled = {"data": {"series": [[0] * 13 + [56]], "seriesLabels": [], "xValues": days}}
    world = shapes.World(amplitude={("Agent Failed", True): unlabelled})
    report = upstreams.report(world)
    check_report(report, world)
    amplitude = report.section("amplitude")
    assert amplitude is not None
    listing = next(x for x in amplitude.listings if x.title.startswith("Top error_type"))
    assert [(i.label, i.value) for i in listing.items] == [("(unlabelled)", 56)]
    assert "top error_type 0 (56)" not in report.summary and "top error_type" not in report.summary


@pytest.mark.parametrize("key", ["grafana", "amplitude"])
@pytest.mark.parametrize("odd", ["one figure", "a placeholder on top", "nothing at all"])
def test_the_summary_and_the_section_never_raise_on_what_a_section_holds(key: str, odd: str) -> None:
    """The template summary and the section's mrkdwn, for ok sections that lack what they usually hold."""
    built = Section(key, key.title(), window="last 12 h")
    if odd == "one figure":
        built.figures = [Figure("Only one", None)]
    elif odd == "a placeholder on top":
        built.figures = [Figure("Agent Started", 3)]
        built.listings = [Listing("Top error_type (Agent Failed)", [Item("(none)", 3, placeholder=True)])]
    summary = template_summary([built])
    assert summary.startswith(key.title()) and "top error_type" not in summary
    assert section_mrkdwn(built).startswith(f"*{key.title()}*")
