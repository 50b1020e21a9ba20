"""The evaluation table's alert cases (tests/support/eval_alerts.py) pass every grade: the firing signal found, the
change named, no unrelated numbers; and the graders themselves can fail."""

from __future__ import annotations

from pathlib import Path

from tests.support.eval_alerts import CASES, GRADES, AlertCase, grade, run_alert_table, unsourced_numbers


def test_the_alert_cases_cover_both_senders_both_paths_and_the_faults() -> None:
    kinds = {c.kind for c in CASES}
    assert kinds == {"grafana", "alertmanager", "grafana-slack", "alertmanager-slack"}
    assert {f for c in CASES for f in c.faults} == {"loki_500", "amplitude_moving"}
    assert any(not c.changes for c in CASES) and any(c.change is None for c in CASES)


def test_the_graders_catch_a_wrong_change_an_invented_number_and_a_missing_signal() -> None:
    case = AlertCase("x", "grafana", signal=("High error rate",), change="c", forbid=("ddddddd", "Agent Started"))
    bad = "• Nearest change: <https://x|ddddddd> `later`, landed 3 min before\n• Agent Started 412 in the last 3 h"
    misses = grade(case, bad, sources='{"total": 40}')
    assert misses["signal"] == ["lacks 'High error rate'"]
    assert "does not name ccccccc" in misses["change"] and "has 'ddddddd'" in misses["change"]
    assert "unsourced number 412" in misses["numbers"] and "has 'Agent Started'" in misses["numbers"]
    assert unsourced_numbers("<https://x/1234|40 error lines> since 08:10 UTC, for 6 h", '{"n": 40}') == []


async def test_every_alert_case_passes_every_grade(tmp_path: Path) -> None:
    table = await run_alert_table(tmp_path)
    assert table.failed() == {}, "\n\n".join(f"{n}: {m}\n{table.replies[n]}" for n, m in table.failed().items())
    assert table.rates()["all"] == (len(CASES), len(CASES))
    assert set(table.rates()) == {*GRADES, "all"}
