"""What Grafana has, cached per team: data sources, label names and values, metric names.

Every Loki or Prometheus question starts with the same lookups (which data source, which labels, which metrics).
Made each time, they put two round trips in front of every query. One GrafanaDiscovery lives on each
GrafanaClient (a client lives as long as the team's credentials and config are unchanged), so the agent's
tools, the rule-based plays and the status report share what it found:

    cache = skill.client.discovery
    await cache.datasources()                  # raw /api/datasources rows
    await cache.uid("loki")                    # the configured UID, else the default data source of that type
    await cache.label_names("loki")            # Loki labels seen in the last hour
    await cache.label_values("loki", "source") # the values of one label
    await cache.metric_names()                 # every Prometheus metric name

Entries are kept `ttl` seconds (skills/cache.py, the one stale-while-revalidate cache): after that the stale value
is still returned at once and a refresh runs in the background (a task of the app's supervisor), so only a
process's first lookup waits. Concurrent lookups of the same key share one request; a failed or empty lookup is
not kept (logs that start flowing show up at once). `fresh=True` waits for a new value. `cache` is open to what
is built from these lookups (the report's Discovery, reports/sections/discovery.py), so it is kept the same way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any, Literal, Protocol

from skills.cache import Memory, SwrCache
from skills.grafana import datasources as ds
from skills.grafana.timeutil import TimeRange, to_ns
from supervisor import Supervisor

Kind = Literal["loki", "prometheus"]
DEFAULT_TTL_S = 300.0
DEFAULT_SINCE = "1h"
WARM_WINDOWS = (DEFAULT_SINCE, "24h")  # a question's default window, and the status report's two 12 h windows
_UPSTREAM = {"loki": "Loki", "prometheus": "Prometheus"}


class Upstream(Protocol):
    """What discovery needs of the Grafana client (skills/grafana/client.py)."""

    loki_override: str | None
    prometheus_override: str | None

    async def request(self, method: str, path: str) -> Any: ...

    async def proxy(self, uid: str, path: str, params: Any, *, upstream: str) -> Any: ...


class GrafanaDiscovery:
    """A TTL cache of one Grafana instance's data sources, labels and metric names, refreshed in the background."""

    def __init__(
        self,
        client: Upstream,
        ttl: float = DEFAULT_TTL_S,
        *,
        supervisor: Supervisor | None = None,
        memory: Memory | None = None,
    ) -> None:
        self.client = client
        self.cache = SwrCache(ttl, supervisor, what="Grafana", memory=memory)
        self._lacking: dict[tuple[str, str], float] = {}
        self._present: dict[tuple[str, str], float] = {}

    # ------------------------------------------------------------------------------------------------
    # The API

    async def datasources(self, *, fresh: bool = False) -> list[dict[str, Any]]:
        """GET /api/datasources: the raw rows."""
        return list(await self._get(("datasources",), self._load_datasources, fresh))

    async def uid(self, kind: Kind, *, fresh: bool = False) -> str | None:
        """The team's configured UID of this kind, else the default (or first) data source of that type."""
        override = self.client.loki_override if kind == "loki" else self.client.prometheus_override
        return override or ds.pick(await self.datasources(fresh=fresh), kind)

    async def label_names(
        self, kind: Kind, *, since: str = DEFAULT_SINCE, uid: str | None = None, fresh: bool = False
    ) -> list[str]:
        """Label names, sorted, without Loki's internal `__` ones (Loki: streams seen in the last `since`)."""
        ds_uid = await self._uid(kind, uid)
        if ds_uid is None:
            return []
        key = ("labels", kind, ds_uid, since if kind == "loki" else "")
        path = "loki/api/v1/labels" if kind == "loki" else "api/v1/labels"
        return list(await self._get(key, lambda: self._strings(kind, ds_uid, path, since), fresh))

    async def label_values(
        self, kind: Kind, name: str, *, since: str = DEFAULT_SINCE, uid: str | None = None, fresh: bool = False
    ) -> list[str]:
        """The values of one label, sorted (Loki: in streams of the last `since`)."""
        ds_uid = await self._uid(kind, uid)
        if ds_uid is None:
            return []
        key = ("values", kind, ds_uid, name, since if kind == "loki" else "")
        path = f"loki/api/v1/label/{name}/values" if kind == "loki" else f"api/v1/label/{name}/values"
        return list(await self._get(key, lambda: self._strings(kind, ds_uid, path, since), fresh))

    async def metric_names(self, *, uid: str | None = None, fresh: bool = False) -> list[str]:
        """Every Prometheus metric name, in the order Prometheus lists them."""
        ds_uid = await self._uid("prometheus", uid)
        if ds_uid is None:
            return []
        key = ("metrics", ds_uid)
        path = "api/v1/label/__name__/values"
        return list(await self._get(key, lambda: self._strings("prometheus", ds_uid, path, None), fresh))

    def lacks(self, feature: str, uid: str) -> bool:
        """Whether this data source was found without `feature` (e.g. Loki's patterns endpoint) within the TTL."""
        at = self._lacking.get((feature, uid))
        return at is not None and time.monotonic() - at < self.cache.ttl

    def note_lacking(self, feature: str, uid: str) -> None:
        """Remember that the data source answered 404 for `feature`, so callers go straight to their fallback."""
        self._lacking[(feature, uid)] = time.monotonic()

    def knows(self, feature: str, uid: str) -> bool:
        """Whether this data source was found with or without `feature` within the TTL (else: try it, and be
        ready for a 404)."""
        at = self._present.get((feature, uid))
        return self.lacks(feature, uid) or (at is not None and time.monotonic() - at < self.cache.ttl)

    def note_present(self, feature: str, uid: str) -> None:
        """Remember that the data source answered for `feature`."""
        self._present[(feature, uid)] = time.monotonic()
        self._lacking.pop((feature, uid), None)

    async def warm(self, windows: tuple[str, ...] = WARM_WINDOWS) -> None:
        """Fill the cache: data sources, then Loki labels and metric names (errors are left for their use)."""
        lookups = [self.label_names("loki", since=since) for since in windows]
        await asyncio.gather(*lookups, self.metric_names(), return_exceptions=True)

    async def settle(self) -> None:
        """Wait for the refreshes under way (tests and benchmarks)."""
        await self.cache.settle()

    def forget(self) -> None:
        """Drop every entry: the next lookup asks Grafana again."""
        self.cache.forget()
        self._lacking.clear()
        self._present.clear()

    # ------------------------------------------------------------------------------------------------
    # Loading

    async def _uid(self, kind: Kind, uid: str | None) -> str | None:
        return uid or await self.uid(kind)

    async def _load_datasources(self) -> list[dict[str, Any]]:
        body = await self.client.request("GET", "/api/datasources")
        return [d for d in body if isinstance(d, dict)] if isinstance(body, list) else []

    async def _strings(self, kind: Kind, uid: str, path: str, since: str | None) -> list[str]:
        params = None
        if kind == "loki":
            window = TimeRange.resolve(since or DEFAULT_SINCE)
            params = {"start": str(to_ns(window.start)), "end": str(to_ns(window.end))}
        body = await self.client.proxy(uid, path, params, upstream=_UPSTREAM[kind])
        data = body.get("data") if isinstance(body, dict) else None
        values = [str(v) for v in data] if isinstance(data, list) else []
        if kind == "loki":
            values = sorted(v for v in values if not v.startswith("__"))
        elif "__name__" not in path:
            values = sorted(values)
        return values

    async def _get(self, key: tuple[Any, ...], load: Callable[[], Coroutine[Any, Any, Any]], fresh: bool) -> Any:
        return await self.cache.get(key, load, fresh=fresh)
