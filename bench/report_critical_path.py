"""The status report's critical path: with every upstream fake delayed by 1 s, report wall time vs the floor.

The floor is the report's critical path in round trips. Grafana: one round when the data sources, the Loki
selector and the latency histogram are known (every query at once); a process's first report must find them
first (data sources, then labels and metric names: two more rounds, one when the UIDs are configured).
Amplitude: its calls all start at once, but only 5 run at a time, so n calls take ceil(n / 5) rounds.
The floor of a run is the larger of the two; the target is wall time / slowest single call ≤ 1.3 × floor.

    python -m bench report_critical_path        (or: make bench, which runs every bench)
"""

from __future__ import annotations

import asyncio
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402

from bot.services import Services  # noqa: E402
from reports.builder import ReportOptions, build_report  # noqa: E402
from reports.sections.discovery import CACHE  # noqa: E402
from settings import Settings  # noqa: E402
from storage.services import open_storage  # noqa: E402
from tests import report_data as rd  # noqa: E402
from tests.fakes.amplitude import FakeAmplitude  # noqa: E402
from tests.fakes.grafana import LOKI_UID, PROM_UID, FakeGrafana  # noqa: E402

DELAY_S = 1.0
TARGET = 1.3
AMPLITUDE_CONCURRENCY = 5
DISCOVERY_PATHS = ("/api/datasources", "/loki/api/v1/labels", "/api/v1/label/__name__/values")


@dataclass
class Run:
    name: str
    wall_s: float
    grafana_calls: int
    grafana_discovery: int
    amplitude_calls: int
    grafana_rounds: int
    statuses: str

    @property
    def amplitude_rounds(self) -> int:
        return math.ceil(self.amplitude_calls / AMPLITUDE_CONCURRENCY) if self.amplitude_calls else 0

    @property
    def floor(self) -> int:
        return max(1, self.grafana_rounds, self.amplitude_rounds)


def discovery_calls(paths: list[str]) -> int:
    return sum(1 for p in paths if p.endswith(DISCOVERY_PATHS) or p == "/api/datasources")


async def slowest_single_call(grafana: FakeGrafana, amp: FakeAmplitude) -> float:
    """One request to each fake on its own; the slower one is the unit of a round trip."""
    import httpx

    async with httpx.AsyncClient() as client:
        times = []
        for url, auth in (
            (f"{grafana.url}/api/health", None),
            (f"{amp.url}/api/2/events/list", (amp.api_key, amp.secret_key)),
        ):
            started = time.monotonic()
            await client.get(url, auth=auth)
            times.append(time.monotonic() - started)
    return max(times)


async def measure(
    name: str, services: Services, grafana: FakeGrafana, amp: FakeAmplitude, grafana_rounds: int, end: datetime
) -> Run:
    await CACHE.settle()
    grafana.requests.clear()
    amp.requests.clear()
    team = await services.team_for(None)
    started = time.monotonic()
    report = await build_report(services, team, now=end, options=ReportOptions(use_model=False))
    wall = time.monotonic() - started
    paths = grafana.paths()  # includes a background refresh still under way (off the critical path)
    statuses = ", ".join(f"{s.title} {s.status}" for s in report.sections)
    return Run(name, wall, len(paths), discovery_calls(paths), len(amp.requests), grafana_rounds, statuses)


def table(runs: list[Run], slowest: float) -> list[str]:
    head = f"{'run':<22}{'Grafana calls':<26}{'Amplitude':<11}{'rounds G/A':<12}{'floor':<7}"
    head += f"{'wall':<9}{'wall/slowest':<14}ratio to floor"
    lines = [head]
    for r in runs:
        ratio = r.wall_s / slowest
        grafana = f"{r.grafana_calls} ({r.grafana_discovery} discovery)"
        lines.append(
            f"{r.name:<22}{grafana:<26}{r.amplitude_calls:<11}{f'{r.grafana_rounds} / {r.amplitude_rounds}':<12}"
            f"{r.floor:<7}{f'{r.wall_s:.2f} s':<9}{ratio:<14.2f}{ratio / r.floor:.2f}"
        )
    return lines


async def main() -> int:
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
                slowest = await slowest_single_call(grafana, amp)
                runs = [await measure("cold (first report)", services, grafana, amp, 3, end)]
                runs.append(await measure("warm", services, grafana, amp, 1, end))
                team = await services.team_for(None)
                uids = {"grafana": {"datasources": {"loki": LOKI_UID, "prometheus": PROM_UID}}}
                await services.patch_config(team.id, uids, "bench")  # new config -> new client -> cold again
                runs.append(await measure("cold, UIDs configured", services, grafana, amp, 2, end))
                await CACHE.settle()
            finally:
                await services.close()
    print(f"report critical path: every upstream fake delayed {DELAY_S:g} s; slowest single call {slowest:.3f} s")
    for line in table(runs, slowest):
        print("   " + line)
    print(f"   sections: {runs[-1].statuses}")
    print("   (warm: its discovery calls are the background refresh for the next report, off the critical path)")
    worst = max(r.wall_s / slowest / r.floor for r in runs)
    warm = next(r for r in runs if r.name == "warm")
    verdict = "met" if worst <= TARGET else "NOT met"
    warm_ratio = warm.wall_s / slowest / warm.floor
    print(f"   target: wall/slowest ≤ {TARGET} × floor; warm {warm_ratio:.2f}, worst {worst:.2f}: {verdict}")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
