"""A 2,000-line pull request reviewed with every upstream fake delayed: wall time vs the critical-path floor, and
the model's input tokens against the review's budget.

The floor in round trips, in a running sitrep (a review before this one built the clients, minted the
installation token and found the Loki selector): the PR's metadata, diff and comments at once (1), the Loki
error patterns of the touched route (1), the review POST (1): 3; with a model key one more for Claude's turn.
The first review of a process also mints the token (1) while Grafana discovery runs beside it, and pays the
one-time set-up (TLS contexts, the App key): it is printed too, for information. Target: the running sitrep's
wall time ≤ 1.3 × floor × delay.

    python -m bench pr_review        (or: make bench, which runs every bench)
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402

from bench import Row, ratio_row  # noqa: E402
from review.gather import PATCH_TOKEN_BUDGET  # noqa: E402
from review.pipeline import review_pull  # noqa: E402
from tests.fakes.anthropic import FakeAnthropic, text  # noqa: E402
from tests.fakes.github_repo import PullFile, added_patch  # noqa: E402
from tests.support.github_world import REPO, ROUTE_FILE, ROUTE_TS, github_world  # noqa: E402

DELAY_S = 0.5
TARGET = 1.3
LINES = 2000


class SlowAnthropic(FakeAnthropic):
    async def _messages(self, request: web.Request) -> web.Response:
        await asyncio.sleep(DELAY_S)
        return await super()._messages(request)


def big_pull() -> list[PullFile]:
    files = [PullFile(ROUTE_FILE, added_patch(ROUTE_TS), content=ROUTE_TS)]
    per_file = 50
    left = LINES - len(ROUTE_TS.splitlines())
    i = 0
    while left > 0:
        n = min(per_file, left)
        body = "\n".join(f"export const value{i}_{k} = computeSomething({k}, 'argument-{k}');" for k in range(n)) + "\n"
        files.append(PullFile(f"lib/generated/module{i}.ts", added_patch(body), content=body))
        left -= n
        i += 1
    return files


async def one(tmp: Path, model: FakeAnthropic | None) -> list[tuple[str, float, int, Any, int]]:
    """(label, wall, floor, outcome, lines) of the process's first review, then of a review in a running sitrep."""
    env = {}
    if model is not None:
        env = {"ANTHROPIC_API_KEY": model.api_key, "ANTHROPIC_BASE_URL": model.url, "SITREP_MODEL": "claude-sonnet-5-5"}
    turn = 1 if model is not None else 0
    runs = []
    async with github_world(tmp, **env) as w:
        w.github.delay = w.grafana.delay = DELAY_S
        for label, number, floor in (("first", 98, 4 + turn), ("running", 99, 3 + turn)):
            pr = w.github.add_pull(REPO, number, big_pull())
            if model is not None:
                model.script(text("This change adds an agent route. Production shows timeouts on it."))
            started = time.monotonic()
            out = await review_pull(w.services, await w.team(), REPO, number, head_sha=pr.head_sha)
            wall = time.monotonic() - started
            lines = sum(len(f.patch.splitlines()) - 1 for f in w.github.repo(REPO).pulls[number].files if f.patch)
            runs.append((label, wall, floor, out, lines))
        await w.services.supervisor.settle("discovery")
    return runs


async def measure() -> list[tuple[str, str, float, int, Any, int]]:
    """(planner, label, wall, floor, outcome, lines) of each run."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        async with SlowAnthropic() as model:
            for name, m in (("rules", None), ("claude", model)):
                for label, wall, floor, review, lines in await one(Path(tmp) / name, m):
                    out.append((name, label, wall, floor, review, lines))
    return out


async def rows() -> list[Row]:
    """The bench table's rows: a running sitrep's review against its floor; the first review for context."""
    table = []
    for name, label, wall, floor, out, lines in await measure():
        ratio = wall / (floor * DELAY_S)
        what = f"PR review ({lines:,} lines, {name}), wall / {floor}-round floor"
        if label == "running":
            table.append(ratio_row(what, ratio if out.status == "posted" else 99.0, TARGET, f"{wall:.2f} s"))
            if name == "claude":
                ok = out.patch_tokens <= (out.patch_budget or PATCH_TOKEN_BUDGET)
                table.append(
                    Row(
                        "PR review model input tokens",
                        f"{out.tokens_in:,}",
                        f"patches ≤ {out.patch_budget or PATCH_TOKEN_BUDGET:,}",
                        ok,
                        f"patches {out.patch_tokens:,}",
                    )
                )
        else:
            table.append(Row(f"{what}, first review of a process", f"{ratio:.2f}×", note="one-time set-up included"))
    return table


async def main() -> int:
    code = 0
    print(f"PR review critical path: every upstream fake delayed {DELAY_S:g} s (GitHub, Grafana, Claude)")
    for name, label, wall, floor, out, lines in await measure():
        ratio = wall / (floor * DELAY_S)
        checked = label == "running"
        ok = out.status == "posted" and (ratio <= TARGET or not checked)
        code |= 0 if ok else 1
        verdict = ("ok" if ok else "ABOVE TARGET") if checked else "(one-time set-up included)"
        print(
            f"   {name:6} {label:7} {lines:,}-line PR  wall {wall:.2f} s  floor {floor} rounds = "
            f"{floor * DELAY_S:.1f} s  ratio {ratio:.2f}{f' (target ≤ {TARGET})' if checked else ''}  {verdict}"
        )
        if name == "claude" and checked:
            print(
                f"                  model input tokens {out.tokens_in:,}; patches {out.patch_tokens:,} of the "
                f"{out.patch_budget or PATCH_TOKEN_BUDGET:,}-token patch budget"
            )
    return code


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
