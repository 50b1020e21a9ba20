"""The drain relay killed mid-stream: what Vercel was answered 200 for must reach Loki anyway (Vercel never sends
a 2xx'd request again).

`python app.py` (Socket Mode against the local Slack, the drain relaying to the local Loki) takes signed posts of
100 lines every 50 ms; 1.6 s in, it is SIGKILLed, then started again on the same SQLite database. Printed: the
acknowledged lines Loki never got (target 0), the lines Loki got twice (a crash may repeat at most the batch being
pushed and the rest of a request only partly pushed: docs/deploy.md), and how long after the restart Loki had
every acknowledged line.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench import Row
from tests.fakes.loki import FakeLoki
from tests.fakes.slack import FakeSlack
from tests.support.drain_kill import EVERY_S, KILL_AFTER_S, PER_POST, kill_and_restart


async def rows() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeSlack() as slack, FakeLoki() as loki:
            run = await kill_and_restart(Path(tmp), slack, loki)
            lost, duplicates = len(run.lost(loki)), run.duplicates(loki)
    after = f"{run.recovered_s:.1f} s after the restart" if run.recovered_s is not None else "never"
    setup = (
        f"{PER_POST} lines every {EVERY_S * 1000:.0f} ms, SIGKILL at {KILL_AFTER_S:g} s, restart on the same DB: "
        f"{len(run.acked):,} of {run.posted:,} lines answered 200"
    )
    return [
        Row("drain SIGKILL: acknowledged lines lost", f"{lost:,}", "0", lost == 0 and bool(run.acked), setup),
        Row(
            "drain SIGKILL: lines pushed twice",
            f"{duplicates:,}",
            note=f"every acknowledged line in Loki {after}",
        ),
    ]
