"""Keep every result under the budget (~8 KB serialised) and say so, with a hint, when something was cut."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from skills.base import RESULT_BUDGET_BYTES, fit_rows, serialized_size

MAX_LINE_CHARS = 500


def bounded(
    envelope: dict[str, Any],
    key: str,
    rows: Sequence[Any],
    *,
    hint: str,
    budget: int = RESULT_BUDGET_BYTES,
) -> dict[str, Any]:
    """`envelope` with `key` set to the longest prefix of `rows` that keeps the whole under `budget` bytes.

    Sets "truncated" (also true when the envelope already said so) and, when cut, "shown" and "hint".
    """
    result = dict(envelope)
    result[key] = []
    result.setdefault("truncated", False)
    overhead = serialized_size(result) + len(hint.encode()) + 40
    kept, cut = fit_rows(rows, max(0, budget - overhead))
    result[key] = kept
    if cut:
        result["truncated"] = True
        result["shown"] = len(kept)
        result["hint"] = hint
    return result


def number(text: Any) -> float | str | None:
    """A sample value as a float; NaN and infinities stay strings so the result stays valid JSON."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None if text is None else str(text)
    if math.isfinite(value):
        return round(value, 6) if value != int(value) else int(value) if abs(value) < 1e15 else value
    return str(text)


def finite(values: Sequence[Any]) -> list[float]:
    return [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]


def clip(text: str, limit: int = MAX_LINE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
