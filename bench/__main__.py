"""Run every bench in bench.BENCHES (or those named) and print one table of what was measured.

    python -m bench                      every bench
    python -m bench startup slack_burst  some of them

Exit status 1 when a bench fails (raises): CI runs this after the tests. A missed target is printed in the table and
named at the end, but is no failure: every figure is a ratio measured on a shared, noisy machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import BENCHES, Row  # noqa: E402

FAILED = "failed"  # the value of the one row of a bench that raised


async def collect(names: list[str]) -> list[tuple[str, list[Row], float]]:
    out = []
    for name in names:
        started = time.monotonic()
        print(f"running bench.{name} ...", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(f"bench.{name}")
            rows = list(await module.rows()) if hasattr(module, "rows") else await printed_rows(module.main)
        except Exception as exc:  # one broken bench must not hide the others
            rows = [Row(name, FAILED, ok=False, note=f"{type(exc).__name__}: {exc}"[:200])]
        out.append((name, rows, time.monotonic() - started))
    return out


async def printed_rows(main: Callable[[], Any]) -> list[Row]:
    """A bench that prints its figures from main() (0: target met): each printed line becomes a row."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = main()
        code = await result if inspect.isawaitable(result) else result
    lines = [line.strip() for line in out.getvalue().splitlines() if line.strip()]
    return [Row(line, "") for line in lines] + [Row("its targets", "", "main() returns 0", code == 0)]


def table(results: list[tuple[str, list[Row], float]]) -> str:
    head = ("bench", "measure", "value", "target", "", "note")
    lines = [(name, r.measure, r.value, r.target, r.verdict, r.note) for name, rows, _ in results for r in rows]
    widths = [max(len(str(x[i])) for x in [head, *lines]) for i in range(len(head) - 1)]

    def fmt(cells: tuple[str, ...]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=False)) + "  " + cells[-1]

    rule = "  ".join("-" * w for w in widths) + "  ----"
    return "\n".join([fmt(head), rule, *(fmt(x).rstrip() for x in lines)])


def main(argv: list[str]) -> int:
    names = argv or BENCHES
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown bench: {', '.join(unknown)} (known: {', '.join(BENCHES)})", file=sys.stderr)
        return 2
    results = asyncio.run(collect(names))
    print(table(results))
    spent = ", ".join(f"{name} {seconds:.0f} s" for name, _, seconds in results)
    print(f"\n(time per bench: {spent})")
    failed = [name for name, rows, _ in results if any(r.value == FAILED for r in rows)]
    missed = [f"{name}: {r.measure}" for name, rows, _ in results for r in rows if r.ok is False and r.value != FAILED]
    if missed:
        print("missed (printed, not an error on this shared machine): " + "; ".join(missed))
    if failed:
        print("failed (the bench raised): " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
