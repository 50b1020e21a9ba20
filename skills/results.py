"""Tool results kept within what a model should read: `bounded` fits a result's rows into the byte budget and says
what was cut ("truncated", "shown", a hint)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

# The one cap on a tool result, in UTF-8 bytes (what a model's tokens are counted from, whatever the script):
# agent/toolbox.py cuts what the model reads of a result (summary line + JSON) at RESULT_MAX_BYTES, ~4k tokens;
# a tool fits its rows into RESULT_BUDGET_BYTES (`bounded`), leaving the rest for its envelope and the summary.
RESULT_MAX_BYTES = 16_000
RESULT_BUDGET_BYTES = RESULT_MAX_BYTES // 2


def serialized_size(data: Any) -> int:
    return len(json.dumps(data, default=str, ensure_ascii=False).encode())


def fit_rows(rows: Sequence[Any], budget_bytes: int) -> tuple[list[Any], bool]:
    """The longest prefix of `rows` whose JSON fits in `budget_bytes`, and whether anything was cut."""
    kept: list[Any] = []
    used = 2
    for row in rows:
        size = serialized_size(row) + 1
        if used + size > budget_bytes:
            return kept, True
        kept.append(row)
        used += size
    return kept, False


def bounded(
    envelope: dict[str, Any],
    key: str,
    rows: Sequence[Any],
    *,
    hint: str,
    total: int | None = None,
    budget: int = RESULT_BUDGET_BYTES,
) -> dict[str, Any]:
    """`envelope` with `key` set to the longest prefix of `rows` that keeps the whole under `budget` bytes.

    Sets "truncated" (also true when the envelope already said so, or when `rows` are the first of `total`) and,
    when cut, "shown" and "hint" ("showing 50 of 80; <hint>").
    """
    result = dict(envelope)
    result[key] = []
    result.setdefault("truncated", False)
    total = len(rows) if total is None else total
    note = f"showing {total} of {total}; {hint}"
    overhead = serialized_size(result) + len(note.encode()) + 40
    kept, cut = fit_rows(rows, max(0, budget - overhead))
    result[key] = kept
    if cut or len(kept) < total:
        result["truncated"] = True
        result["shown"] = len(kept)
        result["hint"] = f"showing {len(kept)} of {total}; {hint}"
    return result
