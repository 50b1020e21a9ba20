"""What the Grafana section must know before it can query: data source UIDs, a Loki selector, a latency histogram.

Finding these takes two round trips (data sources, then Loki labels and Prometheus metric names). The lookups go
through the team's shared discovery cache (skills/grafana/discovery.py, also used by the agent's tools), and the
Discovery made of them is kept per GrafanaClient (a client lives as long as the team's credentials and config
are unchanged), reused stale-while-revalidate: a report queries with what it knows, and refreshes it in the
background for the next one. Only a process's first lookup pays the round trips; the section re-discovers at
once when what it knew finds nothing.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from skills.base import SkillError
from skills.grafana import datasources, loki
from skills.grafana.client import GrafanaClient
from skills.grafana.latency import pick_metric

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Discovery:
    loki_uid: str | None
    prometheus_uid: str | None
    selector: str | None  # None: Loki has no streams in the looked-at range
    latency_metric: str | None
    loki_ds: tuple[tuple[str, str], ...] = ()  # url and basicAuthUser of the Loki data source, for the drain step
    prometheus_problem: str = ""  # why there is no latency metric, when discovery failed on the Prometheus side

    @property
    def loki_datasource(self) -> dict[str, Any]:
        return dict(self.loki_ds)


async def discover(client: GrafanaClient, since: str, *, fresh: bool = False) -> Discovery:
    """Two round trips when not cached: the data sources (skipped when both UIDs are configured), then labels and
    metric names. fresh=True asks Grafana again (and updates the shared cache)."""
    cache = client.discovery
    if client.loki_override and client.prometheus_override:
        raw: list[dict[str, Any]] = []
        loki_uid: str | None = client.loki_override
        prom_uid: str | None = client.prometheus_override
    else:
        raw = await cache.datasources(fresh=fresh)
        loki_uid = client.loki_override or datasources.pick(raw, "loki")
        prom_uid = client.prometheus_override or datasources.pick(raw, "prometheus")
    loki_ds = datasources.find(raw, loki_uid) if loki_uid else None
    keep = {k: str(loki_ds[k]) for k in ("url", "basicAuthUser") if loki_ds and loki_ds.get(k)}

    async def selector() -> str | None:
        if not loki_uid:
            return None
        return loki.selector_from(await cache.label_names("loki", since=since, uid=loki_uid, fresh=fresh))

    async def metric() -> tuple[str | None, str]:
        if not prom_uid:
            return None, "no Prometheus data source"
        try:
            names = await cache.metric_names(uid=prom_uid, fresh=fresh)
        except SkillError as exc:
            return None, exc.message
        return pick_metric([n for n in names if "_bucket" in n.lower()]), ""

    found_selector, (latency_metric, problem) = await asyncio.gather(selector(), metric())
    return Discovery(loki_uid, prom_uid, found_selector, latency_metric, tuple(sorted(keep.items())), problem)


@dataclass
class _Entry:
    discovery: Discovery
    refresh: asyncio.Task[Discovery] | None = None


class DiscoveryCache:
    """Discoveries per client, reused stale-while-revalidate."""

    def __init__(self) -> None:
        self._entries: WeakKeyDictionary[GrafanaClient, _Entry] = WeakKeyDictionary()

    async def get(self, client: GrafanaClient, since: str) -> tuple[Discovery, bool]:
        """(discovery, from_cache). A cached one comes back at once and is refreshed in the background."""
        entry = self._entries.get(client)
        if entry is None:
            found = await discover(client, since)
            self._entries[client] = _Entry(found)
            return found, False
        self._start_refresh(client, entry, since)
        return entry.discovery, True

    async def fresh(self, client: GrafanaClient, since: str) -> Discovery:
        """A discovery made now (joining a refresh already under way)."""
        entry = self._entries.get(client)
        if entry is not None:
            task = self._start_refresh(client, entry, since)
            return await asyncio.shield(task)
        found = await discover(client, since, fresh=True)
        self._entries[client] = _Entry(found)
        return found

    def forget(self, client: GrafanaClient) -> None:
        self._entries.pop(client, None)
        client.discovery.forget()

    async def settle(self) -> None:
        """Wait for background refreshes (tests and the benchmark)."""
        tasks = [e.refresh for e in list(self._entries.values()) if e.refresh is not None and not e.refresh.done()]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def _start_refresh(self, client: GrafanaClient, entry: _Entry, since: str) -> asyncio.Task[Discovery]:
        if entry.refresh is not None and not entry.refresh.done():
            return entry.refresh
        task = asyncio.get_running_loop().create_task(discover(client, since, fresh=True))
        entry.refresh = task

        def done(t: asyncio.Task[Discovery]) -> None:
            if t.cancelled():
                return
            error = t.exception()
            if error is None:
                entry.discovery = t.result()
            else:
                log.debug("refreshing the Grafana discovery failed: %s", error)

        task.add_done_callback(done)
        return task


CACHE = DiscoveryCache()
