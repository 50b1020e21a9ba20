"""What prompt caching saves: a session of questions in two Slack threads, answered by Claude through the agent's
tool loop against the fake Messages API, which accounts the cache as the API documents (exact-prefix entries at
each breakpoint, per model, the minimum cacheable length, 5-minute lifetime).

The figure: billed input / the same requests uncached, where billed input = input + 1.25 × cache writes + 0.1 ×
cache reads (the 5-minute cache's prices against the base input price, https://platform.claude.com/docs/en/
build-with-claude/prompt-caching#pricing) and uncached = every input token at the base price. Target ≤ 0.35.

    python -m bench claude_cache        (or: make bench, which runs every bench)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from agent import respond  # noqa: E402
from agent.question import Question  # noqa: E402
from bench import Row, ratio_row  # noqa: E402
from tests.fakes.anthropic import Reply, text, tool_calls  # noqa: E402
from tests.support.agent_world import world  # noqa: E402

TARGET = 0.35
LAMBDA = '{source="lambda"}'
# (thread, question, the model's turns): two threads, questions alternating between them, as people ask
SESSION: list[tuple[str, str, list[Reply]]] = [
    ("1.0001", "why are requests timing out?", [
        tool_calls(("grafana_get_alerts", {}), ("grafana_loki_error_patterns", {"query": LAMBDA, "since": "1h"})),
        tool_calls(("grafana_query_loki", {"query": LAMBDA + ' |= "timeout"', "since": "1h"})),
        text("Timeouts calling the db on lambda since 08:10; the High error rate alert is firing."),
    ]),
    ("2.0001", "how many agent runs failed today?", [
        tool_calls(("amplitude_list_events", {})),
        text("15 agent runs failed today: 12 TimeoutError, 3 RateLimitError."),
    ]),
    ("1.0001", "since when?", [
        tool_calls(("grafana_query_loki", {"query": LAMBDA + ' |= "timeout"', "since": "6h"})),
        text("Since about 08:10, steady since."),
    ]),
    ("2.0001", "and yesterday?", [
        tool_calls(("amplitude_list_events", {})),
        text("5 failed yesterday, all TimeoutError."),
    ]),
    ("1.0001", "which route is slowest?", [
        tool_calls(("grafana_find_metrics", {"keyword": "duration"})),
        text("/api/agents has the highest p95."),
    ]),
    ("2.0001", "is it the same error as in thread one?", [text("Yes: the same db timeout.")]),
]  # fmt: skip


async def measure() -> tuple[int, int, float]:
    """(model calls, input tokens uncached, billed input tokens) over the session."""
    with tempfile.TemporaryDirectory() as tmp:
        async with world(Path(tmp), serve_slack=False) as w:
            w.model.thinking_tokens = 800
            team = await w.services.team_for(None)
            for thread, question, turns in SESSION:
                w.model.script(*turns)
                asked = Question(question, team, "mention", user="U1", channel="C1", thread_ts=thread)
                reply = await respond(w.services, asked)
                if reply.planner != "claude":
                    raise RuntimeError(f"Claude did not answer {question!r}: {reply.error}")
            usages = [r.usage for r in w.model.answered]
    written = sum(u["cache_creation_input_tokens"] for u in usages)
    read = sum(u["cache_read_input_tokens"] for u in usages)
    uncached = sum(u["input_tokens"] for u in usages)
    return len(usages), uncached + written + read, uncached + 1.25 * written + 0.1 * read


async def rows() -> list[Row]:
    calls, full, billed = await measure()
    questions = len(SESSION)
    note = f"{questions} questions in 2 threads, {calls} model calls, {full:,} input tokens, {billed:,.0f} billed"
    return [ratio_row("Claude billed input / uncached (prompt cache)", billed / full, TARGET, note)]


async def main() -> int:
    for row in await rows():
        print(row.measure, row.value, row.target, row.note)
        if row.ok is False:
            return 1
    return 0


if __name__ == "__main__":
    import asyncio

    raise SystemExit(asyncio.run(main()))
