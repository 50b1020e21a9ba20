"""Slack re-sends an event it thinks was not acked; each event_id is handled once."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

log = logging.getLogger(__name__)


class SeenEvents:
    def __init__(self, capacity: int = 2000) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()

    def first_time(self, event_id: str) -> bool:
        if event_id in self._seen:
            return False
        self._seen[event_id] = None
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return True


def register(app: AsyncApp) -> None:
    seen = SeenEvents()

    @app.middleware
    async def drop_repeated_events(body: dict, next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        event_id = body.get("event_id") if isinstance(body, dict) else None
        if event_id and not seen.first_time(event_id):
            log.info("event %s seen before (a Slack retry): acked, not handled again", event_id)
            return BoltResponse(status=200, body="")
        await next()
        return None
