"""JSON that comes from outside (webhooks, the drain, the admin API, `app.py config patch`), parsed into one clear
line when it cannot be taken, never a traceback.

Python's parser recurses once per level, so 200,000 nested arrays raise RecursionError (not ValueError), and a
document a few hundred levels deep parses but breaks whatever recurses over it next (a merge patch, a model,
an encoder). `loads` refuses both: the parser's RecursionError and anything deeper than `max_depth` (no payload
sitrep reads comes close to it).
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64


class NotJSON(ValueError):
    """One line saying why the text is not JSON sitrep takes."""


def loads(raw: bytes | str, *, what: str = "the body", max_depth: int = MAX_DEPTH) -> Any:
    """json.loads, with every way it can fail (and nesting deeper than `max_depth`) as NotJSON."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise NotJSON(f"{what} is nested too deeply to read (more than {max_depth} levels)") from None
    except json.JSONDecodeError as exc:
        raise NotJSON(f"{what} is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except ValueError as exc:  # UnicodeDecodeError and the like
        raise NotJSON(f"{what} is not JSON ({str(exc)[:120]})") from None
    if deeper_than(value, max_depth):
        raise NotJSON(f"{what} is nested too deeply to read (more than {max_depth} levels)")
    return value


def deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels in `value` (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False
