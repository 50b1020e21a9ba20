"""Keep every result under the budget (~8 KB serialised) and say so, with a hint, when something was cut."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

MAX_LINE_CHARS = 500


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
