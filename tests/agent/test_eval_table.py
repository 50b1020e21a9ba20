"""The evaluation table (tests/support/eval_table.py) passes: every question sends the queries it must, and its answer
makes the claims it may, against the evaluation world's fake Grafana."""

from __future__ import annotations

from pathlib import Path

from tests.support.eval_table import CASES, pass_rates, run_table


def test_the_table_is_broad_enough() -> None:
    assert len(CASES) >= 80
    assert len({c.question for c in CASES}) == len(CASES)
    counts = pass_rates({c.question: [] for c in CASES})
    assert all(total >= 6 for pattern, (_, total) in counts.items() if pattern != "all")


async def test_every_question_gets_its_scoped_queries_and_claims(tmp_path: Path) -> None:
    results = await run_table(tmp_path)
    failed = {q: miss for q, miss in results.items() if miss}
    assert failed == {}, f"{len(failed)} of {len(results)} failed"
