"""What the backend modules (prometheus, loki, patterns, alerts, dashboards) need of a Grafana client.

GrafanaClient (client.py) offers each backend's functions as methods, so it imports them; the backends take any
object with this shape, so they never import the client back. Dependencies point one way: api <- backends <- client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from skills.grafana.discovery import GrafanaDiscovery


class GrafanaAPI(Protocol):
    base_url: str
    public_url: str
    token_source: str
    url_source: str
    loki_override: str | None
    prometheus_override: str | None
    discovery: GrafanaDiscovery  # data sources, labels, metric names: cached per team (discovery.py)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json_body: Any = None,
        idempotent: bool | None = None,
        not_found: str = "",
        upstream: str = "",
    ) -> Any: ...

    async def proxy(self, uid: str, path: str, params: Any, *, upstream: str) -> Any: ...

    async def require_uid(self, ds_type: str, uid: str | None = None) -> str: ...

    async def datasources_raw(self, *, fresh: bool = False) -> list[dict[str, Any]]: ...
