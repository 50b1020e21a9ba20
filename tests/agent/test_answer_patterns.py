"""The answer's error patterns when Loki has pattern ingestion on: its samples cover 3 h (retain-for); an answer
over 12 h must count the 12 h, and say what its counts cover."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from agent.rules.planner import plan
from agent.rules.rulebook import answer_with_rules
from agent.toolbox import Toolbox
from tests.fakes.amplitude import FakeAmplitude
from tests.fakes.grafana import FakeGrafana
from tests.fakes.grafana_query import now_ns
from tests.support.agent_world import world

HOUR_NS = 3600 * 10**9
LABELS = {"source": "lambda", "host": "mochacare.vercel.app"}


def incident_8h_ago(g: FakeGrafana, amp: FakeAmplitude) -> None:
    g.loki_patterns = True
    timeouts = [f"Error: timeout calling db after {500 + i}ms" for i in range(40)]
    g.add_logs(LABELS, timeouts[:30], end_ns=now_ns() - 8 * HOUR_NS, gap_s=60)  # beyond Loki's 3 h of samples
    g.add_logs(LABELS, [f"GET /api/agents/{i} 200" for i in range(200)], gap_s=60)
    g.add_logs(LABELS, timeouts[30:], gap_s=60)


async def answer(tmp_path: Path, question: str) -> str:
    async with world(tmp_path, key=False, serve_slack=False, seeder=incident_8h_ago) as w:
        team = await w.services.team_for(None)
        box = await Toolbox.for_team(w.services, team, include_unconfigured=True)
        return await answer_with_rules(box, plan(question, datetime.now(UTC)), services=w.services, team=team)


async def test_an_answer_over_12h_counts_the_patterns_of_the_12h(tmp_path: Path) -> None:
    text = await answer(tmp_path, "show errors in the last 12 hours")
    assert "◦ 40× `Error: timeout calling db after &lt;*&gt;`" in text, text
    assert "10×" not in text  # Loki's 3 h of samples, never shown as the window
    assert "Top error patterns over the last 12h (<" in text
    assert "error lines scanned>; Loki's patterns cover only the last 3 h of 12 h" in text


async def test_loki_patterns_covering_the_window_say_so_not_lines_scanned(tmp_path: Path) -> None:
    text = await answer(tmp_path, "show errors in the last 2 hours")
    assert "◦ 10× `Error: timeout calling db after &lt;*&gt;`" in text, text
    assert "Top error patterns over the last 2h (<" in text and "|Loki's patterns>):" in text
    assert "n/a" not in text and "lines scanned" not in text
