"""The report's error patterns when Loki has pattern ingestion on: its samples cover 3 h (retain-for), the report
12 h, and the rendered counts must be the 12 h ones, never 3 h of counts shown as the window."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from reports.render import report_text
from tests.fakes.amplitude import FakeAmplitude
from tests.fakes.grafana import FakeGrafana
from tests.reports import test_report_builder as builder
from tests.support import report_data as rd

grafana, amp, make = builder.grafana, builder.amp, builder.make  # the builder tests' fixtures


async def test_the_report_counts_patterns_over_its_whole_window_when_loki_keeps_3h(
    make,
    grafana: FakeGrafana,
    amp: FakeAmplitude,
) -> None:
    grafana.loki_patterns = True
    end = datetime.now(UTC)
    logs, _, agents = rd.seed_all(grafana, amp, end)
    services = await make(rd.fake_env(grafana, amp))
    report = await builder.report_for(services, now=end, amplitude_today=agents.today)
    g = report.section("grafana")
    assert g is not None and g.status == "ok", g
    listing = next(x for x in g.listings if x.title == "Top error patterns")
    timeouts, last_3h = logs.current(logs.timeouts), sum(logs.timeouts[-3:])
    assert timeouts > last_3h  # the seeded window has errors older than Loki's pattern samples
    assert [(i.label, i.value) for i in listing.items][:1] == [(rd.TIMEOUT_PATTERN, timeouts)]
    # the seeded lines sit mid-hour: Loki's samples begin 2.5 h back, and the note says what they covered
    span = r"Loki's patterns cover only the last 2\.[5-9] h of 12 h"
    assert re.fullmatch(span + ": counted here over the whole window", listing.note), listing.note
    text = report_text(report)
    assert f"{timeouts:,}" in text and rd.TIMEOUT_PATTERN in text and re.search(span, text)
