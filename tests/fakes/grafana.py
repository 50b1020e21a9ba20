"""A fake Grafana: a real aiohttp server on 127.0.0.1 speaking the formats of Grafana's HTTP API
(https://grafana.com/docs/grafana/latest/developers/http_api/) and, through its data-source proxy, of the
Prometheus and Loki HTTP APIs (https://prometheus.io/docs/prometheus/latest/querying/api/,
https://grafana.com/docs/loki/latest/reference/loki-http-api/).

Knobs: token, version and user (a service account's `sa-` login on Grafana 9-10 gets the 403 Grafana gives
service accounts on /api/user), datasources, dashboards, loki streams, prometheus series, alert rules,
alertmanager alerts, `prometheus_upstream` (the Prometheus data-source proxy is forwarded there verbatim),
failure injection (`fail_next`), documented answers in place of evaluation (`answer`, grafana_shapes.py), a
per-request `delay`, `hold` (an Event each request waits for: a Grafana that has stopped answering until a test
says so) and `holds` (the same for the requests whose path ends with a key). Every request is recorded in
`requests`. The Loki and Prometheus query evaluation lives in grafana_query.py.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from . import grafana_annotations, grafana_shapes
from .grafana_datasources import LOKI_UID, LOKI_URL, PROM_UID, default_datasources
from .grafana_query import PATTERNS_RETAIN_FOR_S, handle_loki, handle_prometheus, now_ns

__all__ = ["LOKI_UID", "LOKI_URL", "PROM_UID", "FakeGrafana", "default_datasources"]


@dataclass
class Recorded:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.query if k == name), None)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Failure:
    status: int
    times: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    path_prefix: str = ""


class FakeGrafana:
    """`async with FakeGrafana() as grafana:` then point GRAFANA_URL at `grafana.url`."""

    def __init__(
        self,
        *,
        token: str = "test-token",
        datasources: list[dict[str, Any]] | None = None,
        version: str = "11.3.0",
        user: dict[str, Any] | None = None,
        prometheus_upstream: str | None = None,
    ) -> None:
        self.token = token
        self.datasources = default_datasources() if datasources is None else datasources
        self.version = version
        self.user = user or {"id": 2, "login": "sa-1-sitrep", "name": "sitrep", "email": "sa-1-sitrep", "orgId": 1}
        self.prometheus_upstream = prometheus_upstream
        self.streams: list[dict[str, Any]] = []  # [{"stream": {labels}, "values": [[ns str, line], ...]}]
        self.loki_patterns = False  # Loki 3's pattern ingestion (/loki/api/v1/patterns); off by default, as in Loki
        self.loki_patterns_retain_for_s = PATTERNS_RETAIN_FOR_S  # how far back its samples go (retain-for: 3h)
        self.prom_series: list[dict[str, Any]] = []  # [{"metric": {...}, "samples": [(ts, value), ...]}]
        self.prom_metadata: dict[str, list[dict[str, str]]] = {}  # GET /api/v1/metadata: metric -> [{type, help}]
        self.dashboards: dict[str, dict[str, Any]] = {}  # uid -> {"dashboard", "meta"}
        self.alert_groups: list[dict[str, Any]] = []
        self.am_alerts: list[dict[str, Any]] = []
        self.annotations: list[dict[str, Any]] = []  # rows of GET /api/annotations (fakes/grafana_annotations.py)
        self.requests: list[Recorded] = []
        self.failures: list[Failure] = []
        self.delay = 0.0
        self.hold: asyncio.Event | None = None
        self.holds: dict[str, asyncio.Event] = {}  # path suffix -> what its requests wait for
        self.shapes: list[grafana_shapes.Shape] = []
        self.on_request: Callable[[Recorded], None] | None = None  # called as each request arrives (tests)
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._next_id = 1

    # -- lifecycle --------------------------------------------------------------------------------------

    async def start(self) -> FakeGrafana:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/api/health", self._health)
        app.router.add_get("/api/user", self._user)
        app.router.add_get("/api/search", self._search)
        app.router.add_get("/api/dashboards/uid/{uid}", self._get_dashboard)
        app.router.add_post("/api/dashboards/db", self._save_dashboard)
        app.router.add_get("/api/datasources", self._datasources)
        app.router.add_get("/api/datasources/uid/{uid}", self._datasource)
        app.router.add_route("*", "/api/datasources/proxy/uid/{uid}/{rest:.*}", self._proxy)
        app.router.add_get("/api/prometheus/grafana/api/v1/rules", self._rules)
        app.router.add_get("/api/alertmanager/grafana/api/v2/alerts", self._am)
        app.router.add_get("/api/annotations", lambda request: grafana_annotations.handle(request, self.annotations))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeGrafana:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- knobs ------------------------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        times: int = 1,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        path_prefix: str = "",
    ) -> None:
        """Answer the next `times` requests (whose path starts with path_prefix) with `status`."""
        self.failures.append(Failure(status, times, body, headers or {}, path_prefix))

    def add_logs(
        self, labels: dict[str, str], lines: list[str], *, end_ns: int | None = None, gap_s: float = 1
    ) -> None:
        """Lines of one stream, the last at end_ns (default now), each `gap_s` seconds apart."""
        end = end_ns if end_ns is not None else now_ns()
        values = [[str(end - int((len(lines) - 1 - i) * gap_s * 1e9)), line] for i, line in enumerate(lines)]
        for stream in self.streams:
            if stream["stream"] == labels:
                stream["values"].extend(values)
                return
        self.streams.append({"stream": dict(labels), "values": values})

    def add_series(self, metric: dict[str, str], samples: list[tuple[float, float | str]]) -> None:
        self.prom_series.append({"metric": dict(metric), "samples": list(samples)})

    def answer(self, path: str, body: Any, *, query: str = "", status: int = 200, times: int | None = None) -> None:
        """Answer requests whose path ends with `path` (and whose query matches the regular expression `query`) with
        `body` (a documented shape, tests/fakes/grafana_shapes.py) instead of evaluating them."""
        self.shapes.append(grafana_shapes.Shape(path, body, status, query, times))

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    # -- plumbing ---------------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(
            Recorded(request.method, request.path, list(request.query.items()), dict(request.headers), body)
        )
        if self.on_request is not None:
            self.on_request(self.requests[-1])
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.hold is not None:
            await self.hold.wait()
        for suffix, held in list(self.holds.items()):
            if request.path.endswith(suffix):
                await held.wait()
        for failure in self.failures:
            if failure.times > 0 and request.path.startswith(failure.path_prefix):
                failure.times -= 1
                payload = failure.body if failure.body is not None else {"message": f"injected {failure.status}"}
                if isinstance(payload, str):
                    return web.Response(
                        text=payload, status=failure.status, headers=failure.headers, content_type="text/html"
                    )
                return web.json_response(payload, status=failure.status, headers=failure.headers)
        if request.path != "/api/health" and request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response(
                {
                    "extra": None,
                    "message": "Invalid API key",
                    "messageId": "api-key.invalid",
                    "statusCode": 401,
                    "traceID": "",
                },
                status=401,
            )
        return grafana_shapes.answer(self.shapes, request) or await handler(request)

    async def _health(self, _: web.Request) -> web.Response:
        return web.json_response({"commit": "0a1b2c3", "database": "ok", "version": self.version})

    async def _user(self, _: web.Request) -> web.Response:
        if self.service_account_forbidden_on_user():
            # Grafana 9-10 answer a service-account token here with 403 (observed; the endpoint is for users:
            # https://grafana.com/docs/grafana/latest/developers/http_api/user/).
            return web.json_response({"message": "Endpoint only available for users"}, status=403)
        return web.json_response(dict(self.user, isGrafanaAdmin=False, theme="", isDisabled=False))

    def service_account_forbidden_on_user(self) -> bool:
        """True where Grafana refuses /api/user to this token: a service account on Grafana 9 or 10."""
        major = int(self.version.split(".", 1)[0] or 0)
        return str(self.user.get("login") or "").startswith("sa-") and 9 <= major <= 10

    async def _datasources(self, _: web.Request) -> web.Response:
        return web.json_response(self.datasources)

    async def _datasource(self, request: web.Request) -> web.Response:
        ds = self._ds(request.match_info["uid"])
        if ds is None:
            return web.json_response({"message": "Data source not found"}, status=404)
        return web.json_response(ds)

    def _ds(self, uid: str) -> dict[str, Any] | None:
        return next((d for d in self.datasources if d.get("uid") == uid), None)

    # -- dashboards -------------------------------------------------------------------------------------

    async def _search(self, request: web.Request) -> web.Response:
        query = request.query.get("query", "").lower()
        limit = int(request.query.get("limit", "1000"))
        hits = []
        for uid, stored in sorted(self.dashboards.items(), key=lambda kv: kv[1]["dashboard"]["title"]):
            dash, meta = stored["dashboard"], stored["meta"]
            if query and query not in dash["title"].lower():
                continue
            hits.append(
                {
                    "id": dash["id"],
                    "uid": uid,
                    "title": dash["title"],
                    "uri": f"db/{meta['slug']}",
                    "url": meta["url"],
                    "slug": "",
                    "type": "dash-db",
                    "tags": dash.get("tags") or [],
                    "isStarred": False,
                    "folderUid": meta.get("folderUid") or None,
                    "folderTitle": meta.get("folderTitle") or None,
                    "sortMeta": 0,
                }
            )
        return web.json_response(hits[:limit])

    async def _get_dashboard(self, request: web.Request) -> web.Response:
        stored = self.dashboards.get(request.match_info["uid"])
        if stored is None:
            return web.json_response({"message": "Dashboard not found"}, status=404)
        return web.json_response(stored)

    async def _save_dashboard(self, request: web.Request) -> web.Response:
        payload = await request.json()
        dash = dict(payload.get("dashboard") or {})
        overwrite = bool(payload.get("overwrite"))
        folder = payload.get("folderUid") or ""
        title = str(dash.get("title") or "").strip()
        if not title:
            return web.json_response({"message": "Dashboard title cannot be empty"}, status=400)
        uid = dash.get("uid")
        same_title = next(
            (
                u
                for u, s in self.dashboards.items()
                if s["dashboard"]["title"].lower() == title.lower() and (s["meta"].get("folderUid") or "") == folder
            ),
            None,
        )
        existing = self.dashboards.get(uid) if uid else None
        if existing is None and same_title and (not uid or uid != same_title):
            if not overwrite:
                return web.json_response(
                    {"message": "A dashboard with the same name in the folder already exists", "status": "name-exists"},
                    status=412,
                )
            uid, existing = same_title, self.dashboards[same_title]
        if existing is not None and not overwrite and dash.get("version") != existing["dashboard"]["version"]:
            return web.json_response(
                {"message": "The dashboard has been changed by someone else", "status": "version-mismatch"}, status=412
            )
        uid = uid or secrets.token_urlsafe(9).replace("-", "x").replace("_", "y")[:12]
        if existing is not None:
            dash_id, version = existing["dashboard"]["id"], existing["dashboard"]["version"] + 1
        else:
            dash_id, version = self._next_id, 1
            self._next_id += 1
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
        dash.update(id=dash_id, uid=uid, version=version, title=title)
        meta = {"slug": slug, "url": f"/d/{uid}/{slug}", "folderUid": folder, "version": version, "canSave": True}
        self.dashboards[uid] = {"dashboard": dash, "meta": meta}
        return web.json_response(
            {
                "id": dash_id,
                "uid": uid,
                "url": meta["url"],
                "status": "success",
                "version": version,
                "slug": slug,
                "folderUid": folder,
            }
        )

    # -- alerting ---------------------------------------------------------------------------------------

    async def _rules(self, _: web.Request) -> web.Response:
        groups = [dict(g, rules=[_as_prometheus_rule(r) for r in g.get("rules") or []]) for g in self.alert_groups]
        return web.json_response({"status": "success", "data": {"groups": groups}})

    async def _am(self, _: web.Request) -> web.Response:
        return web.json_response(self.am_alerts)

    # -- data-source proxy ------------------------------------------------------------------------------

    async def _proxy(self, request: web.Request) -> web.StreamResponse:
        ds = self._ds(request.match_info["uid"])
        if ds is None:
            return web.json_response({"message": "Unable to find datasource"}, status=404)
        rest = "/" + request.match_info["rest"]
        params = dict(request.query)
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            params.update(await request.post())  # type: ignore[arg-type]
        if ds["type"] == "loki":
            status, payload = handle_loki(
                self.streams,
                rest,
                params,
                patterns=self.loki_patterns,
                patterns_retain_for_s=self.loki_patterns_retain_for_s,
            )
        elif ds["type"] == "prometheus":
            if self.prometheus_upstream:
                return await self._forward(request, rest)
            status, payload = handle_prometheus(
                self.prom_series, rest, params, request.query.getall("match[]", []), self.prom_metadata
            )
        else:
            return web.json_response({"message": "unsupported data source type"}, status=400)
        if isinstance(payload, str):
            return web.Response(status=status, text=payload, content_type="text/plain")
        return web.json_response(payload, status=status)

    async def _forward(self, request: web.Request, rest: str) -> web.Response:
        assert self._session is not None
        target = self.prometheus_upstream.rstrip("/") + rest  # type: ignore[union-attr]
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "accept")}
        async with self._session.request(
            request.method, target, params=list(request.query.items()), data=body or None, headers=headers
        ) as upstream:
            content = await upstream.read()
            return web.Response(
                status=upstream.status,
                body=content,
                content_type=upstream.content_type,
            )


EXPRESSION_UIDS = ("__expr__", "-100")


def _as_prometheus_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A rule given with its model's queries (`data`, as /api/v1/provisioning/alert-rules has them) rendered the
    way /api/prometheus/grafana/api/v1/rules does: `query` is the `expr` of each query joined by " | " (the
    JSON of `data` when none has one), and `queriedDatasourceUIDs` the non-expression data sources in order."""
    if "data" not in rule:
        return rule
    out = {k: v for k, v in rule.items() if k != "data"}
    data = rule["data"]
    exprs = [q["model"]["expr"] for q in data if isinstance((q.get("model") or {}).get("expr"), str)]
    out["query"] = " | ".join(exprs) if exprs else json.dumps(data)
    out["queriedDatasourceUIDs"] = [q["datasourceUid"] for q in data if q["datasourceUid"] not in EXPRESSION_UIDS]
    return out
