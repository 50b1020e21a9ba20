"""The status report's critical path with every upstream request held 1 s, in units of one delayed request.

One delayed request is measured first (a single GET to the delayed Grafana double). Then, on one database:
- a fresh install's first report (first ever: data sources -> Loki labels and metric names -> queries, three rounds
  no cache can remove; shown for context);
- a warm report (discovery known: every request at once, target ≤ 1.3);
- the first report of a restarted process (cold, first since start: the discovery the last process kept in the
  database is used at once and refreshed behind, target ≤ 2.3); the Grafana section of a warm report alone.
Loki has pattern ingestion here (as on Grafana Cloud), so the error patterns ask for Loki's patterns, the counts
that check them and the lines together. Each row's note has the requests per upstream and the rounds they took
(a round: the requests that arrive within one delay of the report's start, of the one before, and so on); where
discovery was known, its refresh (data sources, then labels and metric names) runs behind the report, is not
waited for, and is counted apart. Amplitude runs 5 requests of a project at once.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from agent.services import Services
from bench import Row, ratio_row
from reports.builder import ReportOptions, build_report
from reports.sections.grafana import Window, grafana_section
from settings import Settings
from skills.grafana.skill import GrafanaSkill
from storage.services import open_storage
from tests.fakes.amplitude import FakeAmplitude
from tests.fakes.grafana import FakeGrafana
from tests.support import report_data as rd

DELAY_S = 1.0
WARM_TARGET = 1.3
COLD_TARGET = 2.3
AMPLITUDE_AT_ONCE = 5


DISCOVERY = ("/api/datasources", "/loki/api/v1/labels", "/api/v1/label/__name__/values")


@dataclass
class Measured:
    wall: float
    statuses: str
    arrivals: list[tuple[str, str, float]] = field(default_factory=list)  # (upstream, path, offset) till it returned
    after: list[str] = field(default_factory=list)  # Grafana paths asked after the report returned
    known: bool = True  # discovery was known: its lookups are a refresh behind the report, not waited for

    def calls(self, upstream: str) -> int:
        return sum(1 for who, path, _ in self.arrivals if who == upstream and not self.refresh(path))

    def refresh(self, path: str) -> bool:
        return self.known and path.endswith(DISCOVERY)

    @property
    def rounds(self) -> int:
        offsets = [t for _, path, t in self.arrivals if not self.refresh(path)]
        return 1 + int(max(offsets) // DELAY_S) if offsets else 0

    def note(self, unit: float) -> str:
        calls = ", ".join(f"{name} {self.calls(name)}" for name in ("Grafana", "Amplitude"))
        behind = sum(1 for _, p, _ in self.arrivals if self.refresh(p)) + sum(map(self.refresh, self.after))
        return f"{calls} requests in {self.rounds} round(s), {behind} discovery behind; 1 request = {unit:.2f} s"


async def one_delayed_request(grafana: FakeGrafana) -> float:
    async with httpx.AsyncClient() as client:
        started = time.monotonic()
        await client.get(f"{grafana.url}/api/health")
        return time.monotonic() - started


async def timed_report(
    services: Services, end: datetime, grafana: FakeGrafana, amp: FakeAmplitude, *, known: bool = True
) -> Measured:
    team = await services.team_for(None)
    measured = Measured(0.0, "", known=known)
    started = time.monotonic()

    def arrived(upstream: str) -> Any:
        return lambda r: measured.arrivals.append((upstream, r.path, time.monotonic() - started))

    grafana.on_request, amp.on_request = arrived("Grafana"), arrived("Amplitude")
    report = await build_report(services, team, now=end, options=ReportOptions(use_model=False))
    measured.wall = time.monotonic() - started
    grafana.on_request = amp.on_request = None
    before = len(grafana.requests)
    await services.supervisor.settle("discovery")
    measured.after = grafana.paths()[before:]
    measured.statuses = ", ".join(f"{s.title} {s.status}" for s in report.sections)
    return measured


async def rows() -> list[Row]:
    end = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeGrafana() as grafana, FakeAmplitude() as amp:
            rd.seed_all(grafana, amp, end)
            grafana.loki_patterns = True
            env = {"SITREP_DB": str(Path(tmp) / "bench.db"), "SITREP_SECRET_KEY": Fernet.generate_key().decode()}
            settings = Settings.from_env({**env, **rd.fake_env(grafana, amp)})

            async def process() -> Services:
                storage = await open_storage(settings)
                return Services(settings=settings, storage=storage, skill_factories=rd.report_factories())

            grafana.delay = amp.delay = DELAY_S
            unit = await one_delayed_request(grafana)
            first_process = await process()
            try:
                first = await timed_report(first_process, end, grafana, amp, known=False)
                warm = await timed_report(first_process, end, grafana, amp)
            finally:
                await first_process.close()
            restarted = await process()
            try:
                cold = await timed_report(restarted, end, grafana, amp)
                skill = await restarted.skill(await restarted.team_for(None), "grafana")
                assert isinstance(skill, GrafanaSkill)
                started = time.monotonic()
                section = await grafana_section(skill, Window(end))
                grafana_alone = time.monotonic() - started
            finally:
                await restarted.close()
    amplitude_calls = max(first.calls("Amplitude"), warm.calls("Amplitude"), cold.calls("Amplitude"))
    return [
        ratio_row("report wall time, warm / one delayed request", warm.wall / unit, WARM_TARGET, warm.note(unit)),
        ratio_row(
            "report wall time, cold (first since start) / one delayed request",
            cold.wall / unit,
            COLD_TARGET,
            f"discovery kept by the last process; {cold.note(unit)}",
        ),
        ratio_row(
            "Grafana section, warm / one delayed request",
            grafana_alone / unit,
            WARM_TARGET,
            f"no Grafana call waits on another once discovery is known ({section.status})",
        ),
        Row(
            "Amplitude requests per report",
            str(amplitude_calls),
            f"≤ {AMPLITUDE_AT_ONCE}",
            amplitude_calls <= AMPLITUDE_AT_ONCE,
            f"run at once (at most {amp.max_in_flight} were in flight)",
        ),
        Row(
            "report wall time, first ever (empty database) / one delayed request",
            f"{first.wall / unit:.2f}×",
            note=f"data sources -> labels -> queries; {first.note(unit)}; sections: {first.statuses}",
        ),
    ]
