"""The rule planner's evaluation table (tests/support/eval_table.py): the pass rate, per pattern and overall.

Every question is asked against the evaluation world's fake Grafana; a question passes when it sent the queries it
must (selector, filters, window, metric) and its answer makes the claims it may. Then the alert notifications of
tests/support/eval_alerts.py, graded on the firing signal, the change named and no unrelated numbers. Target: all pass.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench import Row
from tests.support.eval_alerts import run_alert_table
from tests.support.eval_table import pass_rates, run_table


async def rows() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        results = await run_table(Path(tmp))
    rates = pass_rates(results)
    out = [
        Row(f"eval: {pattern}", f"{passed} / {total}", ok=None)
        for pattern, (passed, total) in rates.items()
        if pattern != "all"
    ]
    passed, total = rates["all"]
    failed = [q for q, missed in results.items() if missed]
    note = f"failed: {failed[0]!r}…" if failed else f"{total} questions"
    out.append(Row("eval: pass rate", f"{100 * passed / total:.1f}%", "100%", passed == total, note[:120]))
    return out + await alert_rows()


async def alert_rows() -> list[Row]:
    """Alert notifications (tests/support/eval_alerts.py): each grade's pass rate, then every case passing all."""
    with tempfile.TemporaryDirectory() as tmp:
        table = await run_alert_table(Path(tmp))
    rates = table.rates()
    out = [Row(f"eval alerts: {g}", f"{p} / {t}", ok=None) for g, (p, t) in rates.items() if g != "all"]
    passed, total = rates["all"]
    failed = list(table.failed())
    note = f"failed: {failed[0]!r}…" if failed else f"{total} notifications, faults injected in the doubles"
    out.append(Row("eval alerts: pass rate", f"{100 * passed / total:.1f}%", "100%", passed == total, note[:120]))
    return out
