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


def sample(text: Any) -> float | None:
    """A sample value (Prometheus and Loki send them as strings) as a finite float; None for "NaN", "+Inf", "-Inf"
    and anything that is not a number, so no count or quantile is ever made of them."""
    if isinstance(text, bool):
        return None
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def point(pair: Any) -> tuple[float, float] | None:
    """A [<time>, "<value>"] pair as two finite floats; None for anything else (NaN, ±Inf, a short pair)."""
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        return None
    at, value = sample(pair[0]), sample(pair[1])
    return (at, value) if at is not None and value is not None else None


def finite(values: Sequence[Any]) -> list[float]:
    return [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]


def clip(text: str, limit: int = MAX_LINE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
