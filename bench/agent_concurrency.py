"""A rule-based answer with every upstream request delayed 1 s, in units of one delayed request.

The question needs several tools (Loki error rate and patterns, alerts, Amplitude agent failures); the planner
runs them at once. The process is warmed by one answer first (the discovery cache then holds the data sources
and the Loki labels), and the second answer is timed: ≤ 1.3 means every tool call went out in one round.
The cold answer (a process's first) is shown for context.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import httpx

from agent.prompt import team_now
from agent.rules.planner import plan
from agent.rules.rulebook import answer_with_rules
from agent.toolbox import Toolbox
from bench import Row, ratio_row
from tests.support.agent_world import ERROR_RATE, World, world

QUESTION = "why are agents failing since this morning? what's the error rate, and is anything firing?"
DELAY_S = 1.0
TARGET = 1.3


async def timed_answer(w: World) -> tuple[float, str, list[str]]:
    team = await w.services.team_for(None)
    box = await Toolbox.for_team(w.services, team, include_unconfigured=True)
    the_plan = plan(QUESTION, team_now(w.services, team))
    started = time.monotonic()
    answer = await answer_with_rules(box, the_plan, services=w.services, team=team)
    wall = time.monotonic() - started
    return wall, answer, [o.error or "" for o in box.outcomes if not o.ok]


async def rows() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        async with world(Path(tmp), key=False, serve_slack=False, delay=DELAY_S) as w:
            async with httpx.AsyncClient() as client:
                started = time.monotonic()
                await client.get(f"{w.grafana.url}/api/health")
                unit = time.monotonic() - started
            cold, _, _ = await timed_answer(w)
            warm, answer, failed = await timed_answer(w)
    ok_answer = ERROR_RATE in answer and not failed
    note = f"one delayed request = {unit:.2f} s"
    if not ok_answer:
        note += f"; WRONG ANSWER (no {ERROR_RATE}, or tool errors {failed})"
    warm_row = ratio_row("rule-based answer, warm / one delayed request", warm / unit, TARGET, note)
    if not ok_answer:
        warm_row = Row(warm_row.measure, warm_row.value, warm_row.target, False, warm_row.note)
    return [
        warm_row,
        Row(
            "rule-based answer, cold / one delayed request",
            f"{cold / unit:.2f}×",
            note="a process's first answer, unwarmed",
        ),
    ]
