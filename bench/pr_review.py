"""A 2,000-line pull request reviewed with every upstream fake delayed: wall time vs the critical-path floor, and
the model's input tokens against the review's budget.

The floor in round trips: the installation token (1), the PR's metadata, diff and comments at once (1), the
Loki error patterns of the touched route (1), the review POST (1): 4; with a model key one more for Claude's
turn. Grafana discovery (data sources, then labels and metric names) runs beside the token and the reads, so it
adds nothing. Target: wall time ≤ 1.3 × floor × delay.

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

from review.pipeline import review_pull  # noqa: E402
from skills.github.gather import PATCH_TOKEN_BUDGET  # noqa: E402
from tests.fakes.anthropic import FakeAnthropic, text  # noqa: E402
from tests.fakes.github_repo import PullFile, added_patch  # noqa: E402
from tests.github_world import REPO, ROUTE_FILE, ROUTE_TS, github_world  # noqa: E402

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


async def one(tmp: Path, model: FakeAnthropic | None) -> tuple[float, Any, int]:
    env = {}
    if model is not None:
        env = {"ANTHROPIC_API_KEY": model.api_key, "ANTHROPIC_BASE_URL": model.url, "SITREP_MODEL": "claude-sonnet-5-5"}
    async with github_world(tmp, **env) as w:
        pr = w.github.add_pull(REPO, 99, big_pull())
        w.github.delay = w.grafana.delay = DELAY_S
        if model is not None:
            model.script(text("This change adds an agent route. Production shows timeouts on it."))
        started = time.monotonic()
        out = await review_pull(w.services, await w.team(), REPO, 99, head_sha=pr.head_sha)
        wall = time.monotonic() - started
        lines = sum(len(f.patch.splitlines()) - 1 for f in w.github.repo(REPO).pulls[99].files if f.patch)
        return wall, out, lines


async def main() -> int:
    code = 0
    print(f"PR review critical path: every upstream fake delayed {DELAY_S:g} s (GitHub, Grafana, Claude)")
    with tempfile.TemporaryDirectory() as tmp:
        async with SlowAnthropic() as model:
            for name, m, floor in (("rules", None, 4), ("claude", model, 5)):
                wall, out, lines = await one(Path(tmp) / name, m)
                ratio = wall / (floor * DELAY_S)
                ok = out.status == "posted" and ratio <= TARGET
                code |= 0 if ok else 1
                print(
                    f"   {name:6}  {lines:,}-line PR  wall {wall:.2f} s  floor {floor} rounds = {floor * DELAY_S:.1f} s"
                    f"  ratio {ratio:.2f} (target ≤ {TARGET})  {'ok' if ok else 'ABOVE TARGET: ' + out.status}"
                )
                if m is not None:
                    print(
                        f"           model input tokens {out.tokens_in:,}; patches {out.patch_tokens:,} of the "
                        f"{out.patch_budget or PATCH_TOKEN_BUDGET:,}-token patch budget"
                    )
    return code


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
