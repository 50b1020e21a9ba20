"""The rule planner's evaluation table: the questions of tests/eval_cases*.py against the fake Grafana of
tests/support/eval_world.py. Used by tests/agent/test_eval_table.py and bench/eval_table.py.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from agent.rules.planner import plan
from agent.rules.rulebook import answer_with_rules
from agent.toolbox import Toolbox
from bot.readiness import readiness_table
from tests.support.agent_world import world
from tests.support.eval_cases import FIXED_NOW, SUBJECT_CASES, Case
from tests.support.eval_cases_words import WORD_CASES
from tests.support.eval_world import seed_cluster

__all__ = ["CASES", "Case", "check", "pass_rates", "run_table"]

CASES: list[Case] = SUBJECT_CASES + WORD_CASES


def _matches(value: Any, want: str) -> bool:
    text = value if isinstance(value, str) else json.dumps(value)
    return text == want[1:] if want.startswith("=") else want in text


async def check(box: Toolbox, case: Case, answer: str, intents: tuple[str, ...]) -> list[str]:
    """What the case expected and did not get, one line each (empty when it passed)."""
    miss: list[str] = []
    if case.intents is not None and intents != case.intents:
        miss.append(f"intents {intents}, expected {case.intents}")
    calls = [o.call for o in box.outcomes]
    for name, args in case.calls:
        if not any(c.name == name and all(_matches(c.args.get(k), v) for k, v in args.items()) for c in calls):
            seen = [c.args for c in calls if c.name == name]
            miss.append(f"no {name} call with {args}; made {seen}")
    for name in case.absent:
        if any(c.name == name for c in calls):
            miss.append(f"{name} was called")
    errors = [o.error for o in box.outcomes if not o.ok]
    if errors:
        miss.append(f"tool errors {errors}")
    miss += [f"answer lacks {p!r}" for p in case.claims if p not in answer]
    miss += [f"answer has {p!r}" for p in case.forbid if p in answer]
    first = answer.split("\n", 1)[0]
    if case.first and case.first not in first:
        miss.append(f"first line {first!r} lacks {case.first!r}")
    return miss


async def run_table(tmp_path: Path, cases: list[Case] | None = None) -> dict[str, list[str]]:
    """Every case against the evaluation world: question -> what it missed (empty = passed)."""
    results: dict[str, list[str]] = {}
    async with world(tmp_path, key=False, serve_slack=False, seeder=seed_cluster) as w:
        team = await w.services.team_for(None)
        for case in cases or CASES:
            now = FIXED_NOW if case.fixed_now else datetime.now(UTC)
            box = await Toolbox.for_team(w.services, team, include_unconfigured=True, allow_write=True)
            the_plan = plan(case.question, now, list(case.history))
            readiness = partial(readiness_table, w.runtime)
            answer = await answer_with_rules(box, the_plan, services=w.services, team=team, readiness=readiness)
            results[case.question] = await check(box, case, answer, the_plan.intents)
    return results


def pass_rates(results: dict[str, list[str]]) -> dict[str, tuple[int, int]]:
    """pattern -> (passed, total), plus "all"."""
    by: dict[str, Counter[str]] = {}
    for case in CASES:
        if case.question not in results:
            continue
        counts = by.setdefault(case.pattern, Counter())
        counts["total"] += 1
        counts["passed"] += not results[case.question]
    out = {p: (n["passed"], n["total"]) for p, n in by.items()}
    out["all"] = (sum(p for p, _ in out.values()), sum(t for _, t in out.values()))
    return out
