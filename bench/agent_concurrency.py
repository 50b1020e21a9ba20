"""The rule-based planner runs independent tools at the same time.

Every upstream fake (Grafana, Amplitude) holds each request for 1 s. The answer to a question that needs several
tools is timed, then each of its tool calls alone on fresh clients; the ratio of the answer's wall time to the
slowest single tool call is the number to watch: near 1 when the calls overlap, near their count when they run
one after another. Target: at most 1.5.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bot.agent.prompt import team_now
from bot.agent.rulebook import answer_with_rules
from bot.agent.rules import plan
from bot.agent.toolbox import Toolbox, ToolCall, ToolOutcome
from skills import amplitude, grafana
from skills.base import SkillContext
from tests.agent_world import World, world

QUESTION = "why are agents failing since this morning? what's the error rate, and is anything firing?"
DELAY_S = 1.0
TARGET = 1.5


async def alone(w: World, call: ToolCall) -> ToolOutcome:
    """One tool call on fresh skills (cold caches, as the answer had), timed by the toolbox."""
    team = await w.services.team_for(None)
    ctx = SkillContext(settings=w.settings, team=team, credentials=w.services.credentials)
    skills = [await grafana.open_skill(ctx), await amplitude.open_skill(ctx)]
    try:
        box = Toolbox([t for s in skills for t in s.tools()], await w.services.secrets())
        return await box.call(call)
    finally:
        for s in skills:
            await s.aclose()


async def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        async with world(Path(tmp), key=False, serve_slack=False, delay=DELAY_S) as w:
            team = await w.services.team_for(None)
            box = await Toolbox.for_team(w.services, team, include_unconfigured=True)
            the_plan = plan(QUESTION, team_now(w.services, team))
            started = time.monotonic()
            answer = await answer_with_rules(box, the_plan, services=w.services, team=team)
            wall = time.monotonic() - started
            calls = [o.call for o in box.outcomes if not o.repeated]
            failed = [o.error for o in box.outcomes if not o.ok]
            singles = [await alone(w, c) for c in calls]
    slowest = max(singles, key=lambda o: o.duration)
    ratio = wall / slowest.duration
    print(f"   question: {QUESTION!r} (intents: {', '.join(the_plan.intents)})")
    print(f"   every upstream request delayed {DELAY_S:.1f} s; {len(calls)} tool calls:")
    for call, single in zip(calls, singles, strict=True):
        print(f"     {single.duration:5.2f} s alone  {call.name} {call.key[len(call.name) + 1 :][:70]}")
    print(f"   the answer's wall time:          {wall:5.2f} s")
    print(f"   slowest single tool call alone:  {slowest.duration:5.2f} s ({slowest.call.name})")
    print(f"   the calls one after another:     {sum(s.duration for s in singles):5.2f} s")
    print(
        f"   wall / slowest single call:      {ratio:5.2f}  (target <= {TARGET})  {'ok' if ratio <= TARGET else 'SLOW'}"
    )
    print(
        f"   wall / one upstream request:     {wall / DELAY_S:5.2f}  (discovery chains: datasources -> labels -> query)"
    )
    if failed:
        print(f"   tool errors: {failed}")
    if "12.0%" not in answer:
        print("   the answer lacks the seeded error rate 12.0%")
        return 1
    return 0 if ratio <= TARGET and not failed else 1
