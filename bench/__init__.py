"""Benchmarks: `python -m bench` (or `make bench`) runs every module in BENCHES and prints one table.

A bench module exposes `async def rows() -> list[Row]`: each Row one measured figure with its target. Every
figure of a run is measured in that run, against the local doubles in tests/fakes (never the internet). To add
a bench, write a module here and add its name to BENCHES. A module with only `main()` (it prints its figures
and returns 0 when its targets are met) still runs: each printed line becomes a row.
"""

from __future__ import annotations

from dataclasses import dataclass

BENCHES = [
    "startup",
    "slack_burst",
    "slack_ack",
    "report_critical_path",
    "agent_concurrency",
    "drain_relay",
    "drain_kill",
    "pr_review",
    "github_poll_cost",
    "eval_table",
    "replicas",
    "request_bodies",
    "alert_investigation",
    "instrument_scan",
    "claude_cache",
    "hostile_web",
    "alert_storm",
]


@dataclass(frozen=True)
class Row:
    """One line of the table. ok: True (target met), False (missed), None (shown for context, no target)."""

    measure: str
    value: str
    target: str = ""
    ok: bool | None = None
    note: str = ""

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else "met" if self.ok else "MISSED"


def ratio_row(measure: str, value: float, target: float, note: str = "", *, unit: str = "×") -> Row:
    """A ratio (or an amount) that must stay at or under `target`."""
    return Row(measure, f"{value:.2f}{unit}", f"≤ {target:g}{unit}", value <= target, note)
