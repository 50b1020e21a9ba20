"""What the fake Amplitude answers in place of evaluating a request: an injected failure (a status and a body, as
Amplitude's 429s and 5xx come), or a given JSON body (a documented but rare shape: nulls, empty or missing
seriesLabels), matched by path and, for a segmentation, by the event type its `e` names."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass
class Answer:
    body: Any
    path: str
    event: str | None  # only segmentations whose `e` names this event type…
    grouped: bool | None  # …with (True) or without (False) a group-by; None: either
    times: int | None  # None: every matching request

    def takes(self, request: web.Request) -> bool:
        if self.times == 0 or request.path != self.path:
            return False
        if self.event is None and self.grouped is None:
            return True
        e: Any = None
        with contextlib.suppress(ValueError, TypeError):
            e = json.loads(request.query.get("e", ""))
        if not isinstance(e, dict):
            return False
        if self.event is not None and e.get("event_type") != self.event:
            return False
        return self.grouped is None or bool(e.get("group_by")) == self.grouped


@dataclass
class Injection:
    status: int
    body: str
    times: int
    retry_after: str | None = None
    path: str | None = None  # a path prefix; None matches every path
