"""Sparklines: a list of numbers as ▁▂▃▄▅▆▇█, scaled from zero (or the lowest value, when negative) to the top."""

from __future__ import annotations

import math
from collections.abc import Sequence

BARS = "▁▂▃▄▅▆▇█"
GAP = " "


def sparkline(values: Sequence[float | int | None]) -> str:
    """One bar per value; None (or NaN, or an infinity) is a gap. Zero is the lowest bar, the largest value the highest.

    Scaling starts at zero so that a flat but busy series does not look like a spike; all-zero is all ▁.
    """
    numbers = [float(v) for v in values if v is not None and _usable(v)]
    if not numbers:
        return GAP * len(values)
    low = min(0.0, min(numbers))
    high = max(numbers)
    span = high - low
    out = []
    for value in values:
        if value is None or not _usable(value):
            out.append(GAP)
        elif span <= 0:
            out.append(BARS[0] if high == 0 else BARS[-1])
        else:
            out.append(BARS[round((float(value) - low) / span * (len(BARS) - 1))])
    return "".join(out)


def _usable(value: float | int | None) -> bool:
    return value is not None and not (isinstance(value, float) and not math.isfinite(value))
