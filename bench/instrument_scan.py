"""The Amplitude instrumentation's scan of a repository through GitHub, in units of one delayed GitHub request.

Against the fake GitHub holding the realistic Next.js app of the tests, grown to 120 source files (60 routes and
60 library modules), every request held `DELAY_S`: the scan (repository and installation checks, ref, commit,
recursive tree, package.json, then the 120 blobs, six at a time) and the plan (tree-sitter parses of every file,
the edits, the re-parse of every edited file; sitrep runs it in a worker thread, off the event loop). Printed: the
scan's wall time over one delayed request (reading the blobs one after another would take over 130 units; the
target is 40), and the plan's time per file read.

    python -m bench instrument_scan        (or: make bench, which runs every bench)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import Row, ratio_row  # noqa: E402
from review.pipeline import github_skill  # noqa: E402
from skills.amplitude.instrument.plan import make_plan  # noqa: E402
from skills.amplitude.instrument.publish import check_target  # noqa: E402
from skills.amplitude.instrument.scan import scan  # noqa: E402
from tests.support import nextjs_repo  # noqa: E402
from tests.support.github_world import REPO, github_world  # noqa: E402

DELAY_S = 0.05
FILES = 60
TARGET = 40.0


def repository() -> dict[str, str]:
    files = nextjs_repo.files()
    for i in range(FILES):
        files[f"app/api/items{i}/route.ts"] = nextjs_repo.RUN_ROUTE
        files[f"lib/module{i}.ts"] = nextjs_repo.USERS_LIB * 20
    return files


async def measure() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        async with github_world(Path(tmp)) as w:
            w.github.repo(REPO).seed(repository())
            skill = await github_skill(w.services, await w.team())
            assert skill is not None
            await skill.client.installation_repos(skill.installation_id)  # the token, minted before the clock starts
            w.github.delay = DELAY_S
            start = len(w.github.requests)
            began = time.perf_counter()
            target = await check_target(skill.client, skill.installation_id, REPO)
            snap = await scan(skill.client, skill.installation_id, REPO, target.default_branch)
            wall = time.perf_counter() - began
            requests = len(w.github.requests) - start
            w.github.delay = 0
            read = len(snap.files)
            began = time.perf_counter()
            make_plan(snap)
            planning = time.perf_counter() - began
            return {"units": wall / DELAY_S, "requests": requests, "files": read, "per_file_ms": planning / read * 1000}


async def rows() -> list[Row]:
    f = await measure()
    return [
        ratio_row(
            "Instrumentation scan, wall time over one delayed GitHub request",
            f["units"],
            TARGET,
            f"{f['requests']:.0f} requests, {f['files']:.0f} files read 6 at a time, {DELAY_S * 1000:.0f} ms each",
        ),
        Row("Instrumentation plan, time per file read", f"{f['per_file_ms']:.1f} ms", note="parse, edit, re-parse"),
    ]
