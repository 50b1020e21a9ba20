"""A fake Grafana that holds every request while `holding` is set, until `released`: a report caught mid-build.
(`arrived` is set by the first request.)"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from tests.fakes.grafana import FakeGrafana


class HoldingGrafana(FakeGrafana):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.holding = False
        self.arrived = asyncio.Event()
        self.released = asyncio.Event()

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.arrived.set()
        if self.holding:
            await self.released.wait()
        return await super()._middleware(request, handler)
