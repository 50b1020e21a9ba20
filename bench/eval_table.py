"""The rule planner's evaluation table (tests/eval_table.py): the pass rate, per pattern and overall.

Every question is asked against the evaluation world's fake Grafana; a question passes when it sent the queries it
must (selector, filters, window, metric) and its answer makes the claims it may. Target: every question passes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.eval_table import pass_rates, run_table


async def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        results = await run_table(Path(tmp))
    rates = pass_rates(results)
    for pattern, (passed, total) in rates.items():
        if pattern != "all":
            print(f"   {pattern:<10} {passed:3d} / {total:3d}  {100 * passed / total:5.1f}%")
    passed, total = rates["all"]
    print(f"   {'all':<10} {passed:3d} / {total:3d}  {100 * passed / total:5.1f}%  (target 100%)")
    for question, missed in results.items():
        if missed:
            print(f"   failed: {question!r}: {missed[0][:160]}")
    return 0 if passed == total else 1
