"""GrafanaClient: one httpx client, Bearer token, every call through skills.http.send, errors mapped to SkillError.

Higher-level methods (queries, patterns, alerts, dashboards) live in one module per backend and are exposed here
as methods, so other code (the report builder) needs only this class.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from skills.base import SkillError
from skills.grafana import alerts, dashboards, datasources, loki, patterns, prometheus
from skills.grafana.discovery import GrafanaDiscovery
from skills.grafana.timeutil import TimeLike
from skills.http import RetryPolicy, make_client, send

if TYPE_CHECKING:
    from skills.base import Credential
    from skills.cache import Memory
    from supervisor import Supervisor

INTEGRATION = "Grafana"
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
USERS_ONLY = "Endpoint only available for users"  # Grafana 9-10 on /api/user for a service account
# What Grafana's data-source proxy answers (404) for a UID it does not have (pkg/services/datasourceproxy, toAPIError)
NO_DATASOURCE = "Unable to find datasource"


class DataSourceGone(SkillError):
    """The data-source proxy answered that the UID does not exist (removed, or renamed with a new UID)."""

    def __init__(self, uid: str, hint: str) -> None:
        super().__init__(INTEGRATION, f"Grafana has no data source with uid {uid!r} (any more)", hint, status=404)
        self.uid = uid


def display_url(url: str) -> str:
    """The URL without any user:password part, safe to print."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", "")).rstrip("/")


class GrafanaClient:
    """Async access to one Grafana instance. Methods return plain data (dicts and lists)."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        token_source: str = "GRAFANA_TOKEN",
        url_source: str = "GRAFANA_URL",
        loki_uid: str | None = None,
        prometheus_uid: str | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        policy: RetryPolicy | None = None,
        supervisor: Supervisor | None = None,
        memory: Memory | None = None,
    ) -> None:
        self.base_url = url.strip().rstrip("/")
        self.public_url = display_url(self.base_url)
        self.token_source = token_source
        self.url_source = url_source
        self.loki_override = loki_uid
        self.prometheus_override = prometheus_uid
        self.policy = policy or RetryPolicy()
        self._http = make_client(self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
        # data sources, labels, metric names: shared, with a TTL, refreshed behind by the app's supervisor
        self.discovery = GrafanaDiscovery(self, supervisor=supervisor, memory=memory)

    @classmethod
    def from_credentials(cls, url: Credential, token: Credential, **kwargs: Any) -> GrafanaClient:
        if not url.value or not token.value:
            missing = [c.source for c in (url, token) if not c.value]
            raise SkillError(INTEGRATION, "not configured", f"Set {' and '.join(missing)}")
        return cls(url.value, token.value, token_source=token.source, url_source=url.source, **kwargs)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> GrafanaClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------------------------------------
    # HTTP

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
    ) -> Any:
        """One call; returns the decoded JSON body. `upstream` names a proxied backend (Prometheus, Loki)."""
        try:
            response = await send(
                self._http,
                method,
                path,
                policy=self.policy,
                idempotent=idempotent,
                integration=INTEGRATION,
                params=params,
                json=json_body,
            )
        except httpx.TimeoutException:
            raise SkillError(
                INTEGRATION,
                f"{self.public_url} did not answer in time",
                f"Check that it is reachable from this host ({self.url_source})",
            ) from None
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise SkillError(
                INTEGRATION,
                f"cannot reach {self.public_url} ({reason})",
                f"Check {self.url_source} and that the host is reachable from here",
            ) from None
        return self._decode(response, method, path, not_found=not_found, upstream=upstream)

    def _decode(self, response: httpx.Response, method: str, path: str, *, not_found: str, upstream: str) -> Any:
        status = response.status_code
        body = _json_or_none(response)
        if status in (401, 403):
            said = _message(body, response.text)
            hint = f"Create a service account token with the Editor role and update {self.token_source}"
            if status == 401 or "invalid" in said.lower():
                if status == 403 and said:
                    hint = f"Grafana said {said!r}. {hint}"
                raise SkillError(INTEGRATION, f"the token was rejected ({status})", hint, status=status)
            # 403 is a valid token refused one call (a role too low, or a users-only endpoint), not a bad token.
            raise SkillError(
                INTEGRATION,
                f"the token may not {method} {path} (403): {said or 'forbidden'}",
                f"Give the service account a role that allows it (Editor), or a token with more rights in "
                f"{self.token_source}",
                status=status,
            )
        if 300 <= status < 400:
            where = response.headers.get("Location", "?")
            raise SkillError(
                INTEGRATION,
                f"{self.public_url} redirected to {where}",
                f"Set {self.url_source} to the Grafana root URL, e.g. https://<stack>.grafana.net",
                status=status,
            )
        if isinstance(body, dict) and body.get("status") == "error" and (upstream or status >= 400):
            kind = upstream or "query"
            error = str(body.get("error") or body.get("message") or "unknown error")
            raise SkillError(INTEGRATION, f"{kind} error: {error}", _query_hint(kind), status=status)
        if status == 404 and path.startswith("/api/datasources/proxy/uid/") and _message(body, "") == NO_DATASOURCE:
            raise self._gone(path)
        if status == 404:
            raise SkillError(
                INTEGRATION, f"not found: {path} (404)", not_found or "Check the uid or name", status=status
            )
        if status >= 400:
            said = _message(body, response.text) or response.reason_phrase
            if upstream and 400 <= status < 500:
                raise SkillError(INTEGRATION, f"{upstream} error: {said}", _query_hint(upstream), status=status)
            raise SkillError(
                INTEGRATION,
                f"{method} {path} failed ({status}): {said}",
                "Retry later" if status >= 500 else "",
                status=status,
            )
        if body is None and response.content:
            raise SkillError(
                INTEGRATION,
                f"{self.public_url}{path} did not answer with JSON",
                f"Check that {self.url_source} is the Grafana root URL",
                status=status,
            )
        return body

    # ------------------------------------------------------------------------------------------------
    # Instance, data sources, proxies

    async def health(self) -> dict[str, Any]:
        """GET /api/health: version, commit, database."""
        return await self.request("GET", "/api/health") or {}

    async def user(self) -> dict[str, Any]:
        """Who the token is (GET /api/user)."""
        return await self.request("GET", "/api/user") or {}

    async def identity(self) -> dict[str, Any]:
        """Who the token is: {"kind": "user" | "service account", "login", "name", ...} as far as Grafana says.

        Grafana 9-10 answer a service-account token on /api/user with 403 "Endpoint only available for users";
        that token is then proved with a call it may make (GET /api/search?limit=1) and named only by its kind.
        401 (and any other refusal of the proving call) raises; an instance without /api/user gives {}.
        """
        try:
            user = await self.user()
        except SkillError as exc:
            if exc.status == 403 and USERS_ONLY in exc.message:
                await self.request("GET", "/api/search", params={"limit": 1})
                return {"kind": "service account"}
            if exc.status in (401, 403) or exc.status is None:
                raise
            return {}
        login = str(user.get("login") or "")
        out = {k: user[k] for k in ("login", "name", "email", "orgId") if user.get(k) is not None}
        return {"kind": "service account" if login.startswith("sa-") else "user", **out}

    async def datasources_raw(self, *, fresh: bool = False) -> list[dict[str, Any]]:
        """GET /api/datasources, from the discovery cache (fresh=True: asked now)."""
        return await self.discovery.datasources(fresh=fresh)

    async def datasources(self, ds_type: str | None = None) -> list[dict[str, Any]]:
        """Data sources as {id, uid, name, type, default, url}, optionally of one type."""
        return datasources.summarize(await self.datasources_raw(), ds_type)

    async def loki_uid(self) -> str | None:
        """The team's configured Loki UID, else the default (or first) Loki data source's UID."""
        return await self.discovery.uid("loki")

    async def prometheus_uid(self) -> str | None:
        """The team's configured Prometheus UID, else the default (or first) Prometheus data source's UID."""
        return await self.discovery.uid("prometheus")

    async def require_uid(self, ds_type: str, uid: str | None = None) -> str:
        found = uid or (await self.loki_uid() if ds_type == "loki" else await self.prometheus_uid())
        if not found:
            name = "Loki" if ds_type == "loki" else "Prometheus"
            raise SkillError(
                INTEGRATION,
                f"no {name} data source",
                f"Add one in Grafana (Connections → Data sources), or set grafana.datasources.{ds_type} "
                "in the team config; list_datasources shows what exists",
            )
        return found

    async def proxy(self, uid: str, path: str, params: Any, *, upstream: str) -> Any:
        """GET through the data-source proxy: /api/datasources/proxy/uid/{uid}/{path}.

        A UID Grafana no longer has raises DataSourceGone, and what was discovered is dropped, so the next lookup
        asks Grafana which data sources exist now (a removed Prometheus is not "not found" until a restart)."""
        try:
            return await self.request(
                "GET",
                f"/api/datasources/proxy/uid/{uid}/{path.lstrip('/')}",
                params=params,
                upstream=upstream,
                not_found=f"No data source has uid {uid!r}; list_datasources shows the UIDs",
            )
        except DataSourceGone:
            self.discovery.forget()
            raise

    def _gone(self, path: str) -> DataSourceGone:
        uid = path.removeprefix("/api/datasources/proxy/uid/").split("/", 1)[0]
        if uid in (self.loki_override, self.prometheus_override):
            hint = "set grafana.datasources in the team config to an existing UID (list_datasources shows them)"
        else:
            hint = "list_datasources shows the UIDs there are (sitrep looks them up again)"
        return DataSourceGone(uid, hint)

    # ------------------------------------------------------------------------------------------------
    # Backends (see the module of each for the result shapes)

    async def query_prometheus(
        self,
        expr: str,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        step: str | float | None = None,
        *,
        since: str | None = None,
        uid: str | None = None,
    ) -> dict[str, Any]:
        """Instant query when neither start nor since is given, else a range query of at most ~100 points."""
        return await prometheus.query(self, expr, start=start, end=end, step=step, since=since, uid=uid)

    async def list_metric_names(self, search: str | None = None, *, uid: str | None = None) -> dict[str, Any]:
        return await prometheus.metric_names(self, search, uid=uid)

    async def list_label_values(
        self, label: str | None = None, match: str | None = None, *, uid: str | None = None
    ) -> dict[str, Any]:
        return await prometheus.label_values(self, label, match, uid=uid)

    async def query_loki(
        self,
        query: str,
        since: str | None = "1h",
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        limit: int = loki.DEFAULT_LIMIT,
        direction: str = "backward",
        *,
        step: str | None = None,
        uid: str | None = None,
    ) -> dict[str, Any]:
        """Log lines newest first (bounded by limit), or numbers for a metric query (count_over_time, rate) at
        `step` (default: the range in at most ~100 points)."""
        return await loki.query(
            self, query, since=since, start=start, end=end, limit=limit, direction=direction, step=step, uid=uid
        )

    async def list_loki_labels(self, since: str = "1h", *, uid: str | None = None) -> dict[str, Any]:
        return await loki.labels(self, since, uid=uid)

    async def list_loki_label_values(
        self, label: str, since: str = "1h", query: str | None = None, *, uid: str | None = None
    ) -> dict[str, Any]:
        return await loki.label_values(self, label, since, query, uid=uid)

    async def loki_error_patterns(
        self,
        selector_or_query: str | None = None,
        since: str = "12h",
        *,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        limit: int = patterns.DEFAULT_SCAN,
        top: int = patterns.DEFAULT_TOP,
        uid: str | None = None,
    ) -> dict[str, Any]:
        """Error-ish lines clustered into templates with counts and an example each, most frequent first."""
        return await patterns.error_patterns(
            self, selector_or_query, since, start=start, end=end, limit=limit, top=top, uid=uid
        )

    async def alerts(self) -> dict[str, Any]:
        """Firing and pending Grafana-managed alerts with their rules."""
        return await alerts.active(self)

    async def search_dashboards(self, query: str = "", limit: int = 50) -> dict[str, Any]:
        return await dashboards.search(self, query, limit)

    async def get_dashboard(self, uid: str) -> dict[str, Any]:
        return await dashboards.summary(self, uid)

    async def create_dashboard(
        self,
        title: str,
        template: str = "vercel-overview.json",
        *,
        loki_uid: str | None = None,
        prometheus_uid: str | None = None,
        folder_uid: str | None = None,
        selector: str | None = None,
    ) -> dict[str, Any]:
        """Create a dashboard from a template, or update the one with the same title."""
        return await dashboards.create_from_template(
            self,
            title,
            template,
            loki_uid=loki_uid,
            prometheus_uid=prometheus_uid,
            folder_uid=folder_uid,
            selector=selector,
        )


def _json_or_none(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _message(body: Any, text: str) -> str:
    if isinstance(body, dict):
        for key in ("error", "message"):
            if body.get(key):
                return str(body[key])[:300]
    if body is None:
        return " ".join(text.split())[:300]
    return ""


def _query_hint(kind: str) -> str:
    if kind == "Loki":
        return "Fix the LogQL; list_loki_labels shows the labels a selector can use"
    if kind == "Prometheus":
        return "Fix the PromQL; list_metric_names and list_label_values show what exists"
    return ""
