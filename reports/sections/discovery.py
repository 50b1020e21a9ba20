"""What the Grafana section must know before it can query: data source UIDs, a Loki selector, a latency histogram.

Finding these takes two round trips (data sources, then Loki labels and Prometheus metric names); every query of
the section depends on them. So the Discovery made of them is kept in the client's discovery cache (skills/cache.py,
the one stale-while-revalidate cache; a client lives as long as the team's credentials and config are unchanged)
and, with a memory, in the database across restarts: a report queries with what is known at once and the cache
refreshes it behind once it is older than the TTL. Only the first lookup of a fresh install pays the round trips.
`refresh()` is the same look made ahead of a scheduled report (reports/warm.py), so its slot starts warm.
The section looks again at once when what it knew finds nothing, or names a data source that is gone.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any

from skills.base import SkillError
from skills.cache import Remember
from skills.grafana import datasources, loki
from skills.grafana.client import DataSourceGone, GrafanaClient
from skills.grafana.latency import pick_metric


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

    @classmethod
    def from_json(cls, value: Any) -> Discovery:
        data = dict(value)
        return cls(**(data | {"loki_ds": tuple(tuple(pair) for pair in data.get("loki_ds") or ())}))


async def discover(client: GrafanaClient, since: str, *, fresh: bool = False, again: bool = True) -> Discovery:
    """Two round trips when not cached: the data sources (skipped when both UIDs are configured), then labels and
    metric names. fresh=True asks Grafana again (and updates the shared lookups). A data source removed between the
    two (its UID answers "Unable to find datasource") makes it start over once, from the data sources."""
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
        except DataSourceGone:
            raise
        except SkillError as exc:
            return None, exc.message
        return pick_metric([n for n in names if "_bucket" in n.lower()]), ""

    try:
        found_selector, (latency_metric, problem) = await asyncio.gather(selector(), metric())
    except DataSourceGone:
        if not again:
            raise
        return await discover(client, since, fresh=True, again=False)
    return Discovery(loki_uid, prom_uid, found_selector, latency_metric, tuple(sorted(keep.items())), problem)


def _key(since: str) -> tuple[str, str]:
    return ("report discovery", since)


def _remember(since: str) -> Remember:
    return Remember(f"grafana report discovery {since}", asdict, Discovery.from_json)


async def known(client: GrafanaClient, since: str) -> tuple[Discovery, bool]:
    """(discovery, from_cache). What is known comes back at once (refreshed behind when older than the TTL); the
    first lookup, when nothing is known, waits for it (with the lookups that are already cached)."""
    cache = client.discovery.cache

    async def load() -> Discovery:
        # a first lookup may use what is cached of the raw lookups; a refresh asks Grafana again
        return await discover(client, since, fresh=cache.peek(_key(since)) is not None)

    found, from_cache = await cache.lookup(_key(since), load, remember=_remember(since))
    return found, from_cache


async def refresh(client: GrafanaClient, since: str) -> Discovery:
    """A discovery made now (joining a refresh already under way); the cache keeps it."""
    return await client.discovery.cache.get(
        _key(since), lambda: discover(client, since, fresh=True), fresh=True, remember=_remember(since)
    )


def forget(client: GrafanaClient) -> None:
    """Drop what is known (the report's discovery and every lookup it was made of)."""
    client.discovery.forget()
