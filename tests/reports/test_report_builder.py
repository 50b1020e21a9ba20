"""The report builder against the fakes: figures equal what the fakes hold, failures and no data say so in one line."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from agent.services import Services
from reports.builder import FirstPost, ReportOptions, build_report
from reports.model import Figure, Report, Section
from reports.sections.amplitude import NO_EVENTS
from settings import Settings
from skills.amplitude.readiness import INSTRUMENT_STEP
from skills.grafana.latency import p95_query
from storage.services import open_storage
from tests.fakes.amplitude import FakeAmplitude
from tests.fakes.grafana import LOKI_UID, PROM_UID, FakeGrafana
from tests.support import report_data as rd
from text.sparkline import sparkline

NO_RETRY_WAIT = {"Retry-After": "0"}


@pytest.fixture
async def grafana() -> AsyncIterator[FakeGrafana]:
    async with FakeGrafana() as fake:
        yield fake


@pytest.fixture
async def amp() -> AsyncIterator[FakeAmplitude]:
    async with FakeAmplitude() as fake:
        yield fake


@pytest.fixture
async def make(env: dict[str, str]) -> AsyncIterator:
    opened: list[Services] = []

    async def factory(extra: dict[str, str], factories: list | None = None) -> Services:
        settings = Settings.from_env({**env, **extra})
        services = Services(
            settings=settings,
            storage=await open_storage(settings),
            skill_factories=rd.report_factories() if factories is None else factories,
        )
        opened.append(services)
        return services

    yield factory
    for services in opened:
        await services.close()


async def report_for(services: Services, **kwargs) -> Report:
    team = await services.team_for(None)
    return await build_report(services, team, **kwargs)


def figure(section: Section | None, label: str) -> Figure:
    assert section is not None
    found = [f for f in section.figures if f.label == label]
    assert found, f"no figure {label!r} in {[f.label for f in section.figures]}"
    return found[0]


def pane(url: str | None) -> dict:
    assert url
    query = parse_qs(urlsplit(url).query)
    return json.loads(query["panes"][0])["a"]


async def test_figures_are_the_numbers_the_fakes_hold(make, grafana: FakeGrafana, amp: FakeAmplitude) -> None:
    end = datetime.now(UTC)
    logs, latency, agents = rd.seed_all(grafana, amp, end)
    services = await make(rd.fake_env(grafana, amp))
    report = await report_for(services, now=end, amplitude_today=agents.today)

    g = report.section("grafana")
    assert g is not None and g.status == "ok", g
    errors = figure(g, "5xx responses")
    assert (errors.value, errors.previous) == (logs.current(logs.timeouts), logs.previous(logs.timeouts))
    assert errors.sparkline == sparkline(logs.timeouts[rd.BUCKETS :])
    assert errors.direction == "up"
    rate = figure(g, "5xx rate")
    current_requests, previous_requests = logs.current(logs.requests), logs.previous(logs.requests)
    assert rate.value == round(logs.current(logs.timeouts) / current_requests * 100, 2)
    assert rate.previous == round(logs.previous(logs.timeouts) / previous_requests * 100, 2)
    assert "statusCode" in rate.note and rate.unit == "%"
    assert (figure(g, "Requests").value, figure(g, "Requests").previous) == (current_requests, previous_requests)
    p95 = figure(g, "p95 latency")
    assert p95.value == pytest.approx(rd.expected_p95(latency.steps[rd.BUCKETS :]), abs=1e-3)
    assert p95.previous == pytest.approx(rd.expected_p95(latency.steps[: rd.BUCKETS]), abs=1e-3)
    assert p95.note == f"from {rd.LATENCY_METRIC}" and p95.unit == "s"
    assert figure(g, "Firing alerts").value == 1
    patterns = next(x for x in g.listings if x.title == "Top error patterns")
    assert [(i.label, i.value) for i in patterns.items] == [
        (rd.TIMEOUT_PATTERN, logs.current(logs.timeouts)),
        (rd.TYPE_ERROR_PATTERN, logs.current(logs.app_errors)),
    ]
    alerts = next(x for x in g.listings if x.title == "Firing alerts")
    assert [i.label for i in alerts.items] == ["High 5xx rate"] and alerts.note == "1 pending"
    alert_pane = pane(alerts.items[0].link)
    assert alert_pane["datasource"] == PROM_UID and alert_pane["queries"][0]["expr"] == rd.ALERT_EXPR
    loki_pane = pane(errors.link)
    assert loki_pane["datasource"] == LOKI_UID and "count_over_time" in loki_pane["queries"][0]["expr"]
    assert (
        pane(p95.link)["datasource"] == PROM_UID and "histogram_quantile(0.95" in pane(p95.link)["queries"][0]["expr"]
    )
    # the link is the query whose value at the window's end is the figure (one instant, over the whole window)
    assert pane(p95.link)["queries"][0]["expr"] == p95_query(rd.LATENCY_METRIC, "12h")
    assert pane(p95.link)["queries"][0]["instant"] is True and pane(p95.link)["range"]["to"] == str(
        int(end.timestamp() * 1000)
    )

    a = report.section("amplitude")
    assert a is not None and a.status == "ok", a
    for label, values in (
        ("Agent Started", agents.started),
        ("Agent Completed", agents.completed),
        ("Agent Failed", agents.failed_total),
        ("Agent Timeout", agents.timeouts),
    ):
        fig = figure(a, label)
        assert (fig.value, fig.previous) == (agents.current(values), agents.previous(values)), label
        assert fig.sparkline == sparkline(values[7:]) and fig.link == "https://app.amplitude.com/analytics/"
    failure = figure(a, "Failure rate")
    bad = [f + t for f, t in zip(agents.failed_total, agents.timeouts, strict=True)]
    assert failure.value == round(agents.current(bad) / agents.current(agents.started) * 100, 2)
    assert failure.previous == round(agents.previous(bad) / agents.previous(agents.started) * 100, 2)
    by_type = next(x for x in a.listings if x.title.startswith("Top error_type"))
    expected = sorted(agents.failed.items(), key=lambda kv: -agents.current(kv[1]))
    assert [(i.label, i.value, i.previous) for i in by_type.items] == [
        (name, agents.current(v), agents.previous(v)) for name, v in expected
    ]
    by_endpoint = next(x for x in a.listings if x.title == "API errors by endpoint")
    assert [(i.label, i.value) for i in by_endpoint.items] == [
        (name, agents.current(v)) for name, v in sorted(agents.api_errors.items(), key=lambda kv: -sum(kv[1][7:]))
    ]
    releases = next(x for x in a.listings if x.title == "Releases in the window")
    assert [i.label for i in releases.items] == ["Release v1.4.0"]  # v1.3.0 is older than the window

    segmentation = amp.requests_to("/api/2/events/segmentation")
    assert len(segmentation) == 4 and amp.max_in_flight <= 5
    assert {r.query["start"] for r in segmentation} == {agents.day(0).strftime("%Y%m%d")}  # both windows in one call
    assert len(amp.requests) <= 5  # at most 5 calls: Amplitude runs 5 at once, so the section is one round
    paired = sorted(
        (r.e["event_type"], json.loads(r.query["e2"])["event_type"]) for r in segmentation if "e2" in r.query
    )
    assert paired == [("Agent Failed", "Agent Timeout"), ("Agent Started", "Agent Completed")]
    assert report.summary_source == "template" and "5xx responses" in report.summary


async def test_without_status_codes_the_rate_is_error_lines_over_all_lines(
    make, grafana: FakeGrafana, amp: FakeAmplitude
) -> None:
    end = datetime.now(UTC)
    logs = rd.default_logs()
    logs.with_status = False
    rd.seed_logs(grafana, logs, end)
    services = await make(rd.fake_env(grafana, amp))
    g = (await report_for(services, now=end)).section("grafana")
    errors, rate, volume = figure(g, "Error lines"), figure(g, "Error rate"), figure(g, "Log lines")
    assert (errors.value, errors.previous) == (logs.current(logs.error_lines), logs.previous(logs.error_lines))
    assert rate.value == round(logs.current(logs.error_lines) / logs.current(logs.all_lines) * 100, 2)
    assert volume.value == logs.current(logs.all_lines) and "all log lines" in rate.note


async def test_grafana_500_and_amplitude_429_give_two_failed_sections(
    make, grafana: FakeGrafana, amp: FakeAmplitude
) -> None:
    rd.seed_all(grafana, amp, datetime.now(UTC))
    grafana.fail_next(500, times=1000, headers=NO_RETRY_WAIT, body={"message": "database is locked"})
    amp.inject_429("Exceeded concurrent limit.", times=1000, retry_after="0")
    services = await make(rd.fake_env(grafana, amp))
    report = await report_for(services)
    g, a = report.section("grafana"), report.section("amplitude")
    assert g is not None and a is not None
    assert (g.status, a.status) == ("failed", "failed")
    assert "500" in g.reason and "database is locked" in g.reason and g.next_step
    assert "rate limit" in a.reason and "concurrent" in a.reason and a.next_step
    assert "Grafana: failed" in report.summary and "Amplitude: failed" in report.summary


async def test_no_data_yet_says_so_with_the_next_step(make, grafana: FakeGrafana, amp: FakeAmplitude) -> None:
    services = await make(rd.fake_env(grafana, amp))
    report = await report_for(services)
    g, a = report.section("grafana"), report.section("amplitude")
    assert g is not None and a is not None
    assert g.status == "no_data" and g.reason.startswith("Grafana has no data yet")
    assert "drain relay" in g.next_step and "/drains/vercel" in g.next_step and "loki/api/v1/push" in g.next_step
    assert (a.status, a.reason, a.next_step) == ("no_data", NO_EVENTS, INSTRUMENT_STEP)


async def test_no_latency_histogram_is_one_line(make, grafana: FakeGrafana, amp: FakeAmplitude) -> None:
    end = datetime.now(UTC)
    rd.seed_logs(grafana, rd.default_logs(), end)
    services = await make(rd.fake_env(grafana, amp))
    g = (await report_for(services, now=end)).section("grafana")
    assert g is not None and g.status == "ok"
    assert "p95 latency: no latency histogram in Prometheus" in g.lines
    assert all(f.label != "p95 latency" for f in g.figures)


async def test_not_configured_names_the_variables(make) -> None:
    report = await report_for(await make({}))
    g, a = report.section("grafana"), report.section("amplitude")
    assert g is not None and a is not None
    assert g.status == "no_data" and "GRAFANA_URL and GRAFANA_TOKEN" in g.reason
    assert a.status == "no_data" and "AMPLITUDE_API_KEY and AMPLITUDE_SECRET_KEY" in a.reason
    report = await report_for(await make({}, factories=[]))
    assert "no Grafana skill" in report.sections[0].reason and "no Amplitude skill" in report.sections[1].reason


async def test_a_slow_section_times_out_alone(make, grafana: FakeGrafana, amp: FakeAmplitude) -> None:
    rd.seed_all(grafana, amp, datetime.now(UTC))
    grafana.delay = 5.0  # far beyond the section timeout, so waiting for Grafana would show, even on a busy machine
    services = await make(rd.fake_env(grafana, amp))
    started = time.monotonic()
    report = await report_for(services, options=ReportOptions(section_timeout=0.3))
    assert time.monotonic() - started < 2.5
    g, a = report.section("grafana"), report.section("amplitude")
    assert g is not None and a is not None
    assert g.status == "failed" and g.reason == "Grafana did not answer within 0.3 s"
    assert a.status == "ok"


async def test_a_warm_report_queries_without_waiting_for_discovery(
    make, grafana: FakeGrafana, amp: FakeAmplitude
) -> None:
    end = datetime.now(UTC)
    rd.seed_all(grafana, amp, end)
    grafana.delay = 0.2  # makes each discovery step a round trip the queries would have to wait for
    services = await make(rd.fake_env(grafana, amp))

    def order(paths: list[str]) -> tuple[int, int]:
        first_query = next(i for i, p in enumerate(paths) if p.endswith("/query_range"))
        first_labels = next(i for i, p in enumerate(paths) if p.endswith("/labels"))
        return first_query, first_labels

    cold = await report_for(services, now=end)
    query_at, labels_at = order(grafana.paths())
    assert labels_at < query_at  # a first report discovers the labels before it can query
    mark = len(grafana.requests)
    warm = await report_for(services, now=end)
    discovery = ("/api/datasources", "/loki/api/v1/labels", "/api/v1/label/__name__/values")
    assert not [p for p in grafana.paths()[mark:] if p.endswith(discovery)]  # known and fresh: not asked again
    assert [f.value for f in warm.section("grafana").figures] == [f.value for f in cold.section("grafana").figures]


async def test_a_stale_selector_is_rediscovered_at_once(make, grafana: FakeGrafana, amp: FakeAmplitude) -> None:
    end = datetime.now(UTC)
    logs = rd.default_logs()
    rd.seed_logs(grafana, logs, end)
    services = await make(rd.fake_env(grafana, amp))
    first = (await report_for(services, now=end)).section("grafana")
    assert first is not None and first.ok
    for stream in grafana.streams:  # the drain was rewired: new labels, same lines
        stream["stream"] = {"app": "mochacare"}
    again = (await report_for(services, now=end)).section("grafana")
    assert again is not None and again.ok, again
    assert figure(again, "5xx responses").value == logs.current(logs.timeouts)


async def test_a_job_chooses_its_sections_and_window(make) -> None:
    options = ReportOptions.for_job(168, ("amplitude",))
    assert (options.grafana_hours, options.amplitude_days, options.sections) == (168, 7, ("amplitude",))
    assert ReportOptions.for_job(24 * 14, ("grafana", "amplitude")).amplitude_days == 14
    report = await report_for(await make({}), options=ReportOptions(use_model=False, sections=("amplitude",)))
    assert [s.key for s in report.sections] == ["amplitude"]


async def test_a_first_look_is_handed_over_while_a_section_is_still_running(
    make, grafana: FakeGrafana, amp: FakeAmplitude
) -> None:
    rd.seed_all(grafana, amp, datetime.now(UTC))
    grafana.hold = asyncio.Event()
    services = await make(rd.fake_env(grafana, amp))
    drafts: list[Report] = []

    async def first_look(draft: Report) -> None:
        drafts.append(draft)
        grafana.hold.set()  # Grafana answers once the first look is out

    report = await build_report(services, await services.team_for(None), first=FirstPost(0.2, first_look))
    [draft] = drafts
    g, a = draft.section("grafana"), draft.section("amplitude")
    assert g is not None and g.status == "pending" and g.reason == "Grafana has not answered in the first 0.2 s"
    assert a is not None and a.status == "ok"
    assert draft.summary_source == "template" and "Grafana: still gathering." in draft.summary
    final = report.section("grafana")
    assert final is not None and final.status == "ok"


async def test_no_first_look_when_every_section_is_done_in_time(make, grafana: FakeGrafana, amp: FakeAmplitude) -> None:
    rd.seed_all(grafana, amp, datetime.now(UTC))
    services = await make(rd.fake_env(grafana, amp))
    drafts: list[Report] = []

    async def first_look(draft: Report) -> None:
        drafts.append(draft)

    report = await build_report(services, await services.team_for(None), first=FirstPost(30.0, first_look))
    assert drafts == []
    assert [s.status for s in report.sections] == ["ok", "ok"]
