"""The status report's critical path with every upstream double delayed 1 s, in units of one delayed request.

One delayed request is measured first (a single GET to the delayed Grafana double). Then a process's first report
(cold: it must discover the data sources, then the Loki labels and metric names), and a warm one (discovery
cached: every Grafana query at once). The warm Grafana section is also timed alone: ≤ 1.3 means no Grafana call
waited on another. Amplitude allows 5 concurrent requests, so a report of more than 5 Amplitude calls pays a
second round; the Amplitude row shows how many it made.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from bench import Row, ratio_row
from reports.builder import ReportOptions, build_report
from reports.sections.discovery import CACHE
from reports.sections.grafana import Window, grafana_section
from settings import Settings
from skills.grafana.skill import GrafanaSkill
from skills.services import Services
from storage.services import open_storage
from tests.fakes.amplitude import FakeAmplitude
from tests.fakes.grafana import FakeGrafana
from tests.support import report_data as rd

DELAY_S = 1.0
TARGET = 1.3


async def one_delayed_request(grafana: FakeGrafana) -> float:
    async with httpx.AsyncClient() as client:
        started = time.monotonic()
        await client.get(f"{grafana.url}/api/health")
        return time.monotonic() - started


async def timed_report(services: Services, end: datetime) -> tuple[float, str]:
    team = await services.team_for(None)
    started = time.monotonic()
    report = await build_report(services, team, now=end, options=ReportOptions(use_model=False))
    wall = time.monotonic() - started
    return wall, ", ".join(f"{s.title} {s.status}" for s in report.sections)


async def rows() -> list[Row]:
    end = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeGrafana() as grafana, FakeAmplitude() as amp:
            rd.seed_all(grafana, amp, end)
            env = {"SITREP_DB": str(Path(tmp) / "bench.db"), "SITREP_SECRET_KEY": Fernet.generate_key().decode()}
            settings = Settings.from_env({**env, **rd.fake_env(grafana, amp)})
            services = Services(
                settings=settings, storage=await open_storage(settings), skill_factories=rd.report_factories()
            )
            try:
                grafana.delay = amp.delay = DELAY_S
                unit = await one_delayed_request(grafana)
                cold, _ = await timed_report(services, end)
                await CACHE.settle()
                amp.requests.clear()
                warm, statuses = await timed_report(services, end)
                amplitude_calls = len(amp.requests)
                await CACHE.settle()
                team = await services.team_for(None)
                skill = await services.skill(team, "grafana")
                assert isinstance(skill, GrafanaSkill)
                started = time.monotonic()
                section = await grafana_section(skill, Window(end))
                grafana_alone = time.monotonic() - started
                await CACHE.settle()
            finally:
                await services.close()
    rounds_note = f"one delayed request = {unit:.2f} s; sections: {statuses}"
    return [
        ratio_row("report wall time, warm / one delayed request", warm / unit, TARGET, rounds_note),
        ratio_row(
            "Grafana section, warm / one delayed request",
            grafana_alone / unit,
            TARGET,
            f"no Grafana call waits on another once discovery is cached ({section.status})",
        ),
        Row("Amplitude calls per report", str(amplitude_calls), "≤ 5", amplitude_calls <= 5, "5 run at once"),
        Row(
            "report wall time, cold / one delayed request",
            f"{cold / unit:.2f}×",
            note="a process's first report: data sources -> labels -> queries (Loki patterns beside the lines)",
        ),
    ]
