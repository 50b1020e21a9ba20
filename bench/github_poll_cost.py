"""An hour of GitHub polling with nothing changing: what it costs in GitHub's rate limit, per routed repo.

Against the fake GitHub (its ETags vary by token as GitHub's do, and a 304 is free) with a fake clock: two
routed repos, one open pull request already reviewed, a poll round every 60 s for an hour, and the installation
token renewed once on the way (it lives an hour and is renewed 5 minutes early). Each round asks each repo for
its open pull requests, the repository (its default branch) and the branch's commits. Printed: the full-cost
(non-304) requests per repo per hour, all requests per repo per hour, and the token mints (the App's budget).
Target: ≤ 70 full-cost requests per repo per hour (polling the three unconditionally would be 180).

    python -m bench github_poll_cost        (or: make bench, which runs every bench)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import Row  # noqa: E402
from review.intake import Poller  # noqa: E402
from review.pipeline import github_skill  # noqa: E402
from tests.support.github_world import REPO, github_world, route_pull_files  # noqa: E402

OTHER = "mochacare/other"
INTERVAL_S = 60
HOUR_S = 3600
TARGET = 70


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def measure() -> dict[str, float]:
    """Per repo: full-cost and all requests in the hour; and the token mints."""
    with tempfile.TemporaryDirectory() as tmp:
        async with github_world(Path(tmp)) as w:
            await w.services.storage.config.patch("default", {"routing": {"github_repos": [REPO, OTHER]}}, "bench")
            clock = Clock()
            w.github.clock = clock
            skill = await github_skill(w.services, await w.team())
            assert skill is not None
            skill.client.clock = clock
            w.github.add_pull(REPO, 7, route_pull_files())
            poller = Poller(w.services, interval=INTERVAL_S)
            await poller.poll_once()  # the review of the open pull request, before the quiet hour
            start = len(w.github.requests)
            minted = skill.client.tokens.minted
            for _ in range(HOUR_S // INTERVAL_S):
                clock.now += INTERVAL_S
                await poller.poll_once()
            seen = w.github.requests[start:]
            figures: dict[str, float] = {"mints": skill.client.tokens.minted - minted}
            for repo in (REPO, OTHER):
                mine = [s for s in seen if s.path.startswith(f"/repos/{repo}/") or s.path == f"/repos/{repo}"]
                figures[f"{repo} full"] = sum(1 for s in mine if s.status != 304)
                figures[f"{repo} all"] = len(mine)
            return figures


async def rows() -> list[Row]:
    figures = await measure()
    per_repo_full = max(figures[f"{r} full"] for r in (REPO, OTHER))
    per_repo_all = max(figures[f"{r} all"] for r in (REPO, OTHER))
    return [
        Row(
            "GitHub polling, full-cost (non-304) requests per repo per hour",
            f"{per_repo_full:.0f}",
            f"≤ {TARGET}",
            per_repo_full <= TARGET,
            f"60 s rounds, nothing changing, {figures['mints']:.0f} token refresh(es)",
        ),
        Row(
            "GitHub polling, all requests per repo per hour",
            f"{per_repo_all:.0f}",
            note="304s cost no rate limit",
        ),
        Row("GitHub polling, installation tokens minted in the hour", f"{figures['mints']:.0f}", note="App budget"),
    ]
