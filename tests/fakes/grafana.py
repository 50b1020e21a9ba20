"""A fake Grafana: a real aiohttp server on 127.0.0.1 speaking the formats of reference/APIS.md.

Knobs: token, datasources, dashboards, loki streams, prometheus series, alert rules, alertmanager alerts,
`prometheus_upstream` (the Prometheus data-source proxy is forwarded there verbatim), failure injection
(`fail_next`) and a per-request `delay`. Every request is recorded in `requests`.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

PROM_UID = "prom-uid"
LOKI_UID = "loki-uid"
LOKI_URL = "https://logs-prod-021.grafana.net"


def default_datasources() -> list[dict[str, Any]]:
    return [
        {
            "id": 1,
            "uid": PROM_UID,
            "orgId": 1,
            "name": "grafanacloud-mochacare-prom",
            "type": "prometheus",
            "typeName": "Prometheus",
            "access": "proxy",
            "url": "https://prometheus-prod-10-prod-us-west-0.grafana.net/api/prom",
            "basicAuth": True,
            "basicAuthUser": "654321",
            "isDefault": True,
            "jsonData": {},
            "readOnly": True,
        },
        {
            "id": 2,
            "uid": LOKI_UID,
            "orgId": 1,
            "name": "grafanacloud-mochacare-logs",
            "type": "loki",
            "typeName": "Loki",
            "access": "proxy",
            "url": LOKI_URL,
            "basicAuth": True,
            "basicAuthUser": "123456",
            "isDefault": False,
            "jsonData": {},
            "readOnly": True,
        },
    ]


def now_ns() -> int:
    return time.time_ns()


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
        self.prom_series: list[dict[str, Any]] = []  # [{"metric": {...}, "samples": [(ts, value), ...]}]
        self.dashboards: dict[str, dict[str, Any]] = {}  # uid -> {"dashboard", "meta"}
        self.alert_groups: list[dict[str, Any]] = []
        self.am_alerts: list[dict[str, Any]] = []
        self.requests: list[Recorded] = []
        self.failures: list[Failure] = []
        self.delay = 0.0
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

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    # -- plumbing ---------------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(
            Recorded(request.method, request.path, list(request.query.items()), dict(request.headers), body)
        )
        if self.delay:
            await asyncio.sleep(self.delay)
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
        return await handler(request)

    async def _health(self, _: web.Request) -> web.Response:
        return web.json_response({"commit": "0a1b2c3", "database": "ok", "version": self.version})

    async def _user(self, _: web.Request) -> web.Response:
        return web.json_response(dict(self.user, isGrafanaAdmin=False, theme="", isDisabled=False))

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
        return web.json_response({"status": "success", "data": {"groups": self.alert_groups}})

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
            status, payload = handle_loki(self.streams, rest, params)
        elif ds["type"] == "prometheus":
            if self.prometheus_upstream:
                return await self._forward(request, rest)
            status, payload = handle_prometheus(self.prom_series, rest, params, request.query.getall("match[]", []))
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


# ---------------------------------------------------------------------------------------------------------
# Loki (simplified LogQL: stream selectors, line filters, count_over_time / rate, sum by) with exact formats.

Matcher = tuple[str, str, str]
_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|`[^`]*`)\s*(,|(?=\}))')
_RANGE_FN = re.compile(r"^\s*(count_over_time|rate)\s*\((.*)\[(\d+)([smhd])\]\s*\)\s*$", re.S)
_AGG = re.compile(r"^\s*(sum|count|max|min|avg)\s*(?:by\s*\(([^)]*)\))?\s*\((.*)\)\s*(?:by\s*\(([^)]*)\))?\s*$", re.S)
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class QueryError(ValueError):
    pass


def _string(token: str) -> str:
    return token[1:-1] if token.startswith("`") else json.loads(token)


def parse_selector(text: str) -> tuple[list[Matcher], str]:
    """'{a="b", c=~"x.*"} rest' -> ([(a, =, b), ...], 'rest')."""
    text = text.strip()
    if not text.startswith("{"):
        raise QueryError("parse error at line 1, col 1: syntax error: unexpected IDENTIFIER, expecting {")
    pos, matchers = 1, []
    while True:
        if text[pos:].lstrip().startswith("}"):
            pos = text.index("}", pos) + 1
            break
        m = _MATCHER.match(text, pos)
        if not m:
            raise QueryError(f"parse error at line 1, col {pos + 1}: syntax error: unexpected character")
        matchers.append((m.group(1), m.group(2), _string(m.group(3))))
        pos = m.end()
        if m.group(4) != ",":
            if not text[pos:].lstrip().startswith("}"):
                raise QueryError(f"parse error at line 1, col {pos + 1}: syntax error: unexpected character")
    if not any(not _matches_empty(op, v) for _, op, v in matchers):
        raise QueryError(
            "parse error : queries require at least one regexp or equality matcher that does not have an "
            'empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will'
        )
    return matchers, text[pos:]


def _matches_empty(op: str, value: str) -> bool:
    if op == "=":
        return value == ""
    if op == "=~":
        return re.fullmatch(value, "") is not None
    return True


def parse_pipeline(text: str) -> list[tuple[str, str]]:
    """Line filters (|=, !=, |~, !~); other stages (| json, | label filters) are accepted and ignored."""
    filters, pos = [], 0
    text = text.strip()
    while pos < len(text):
        rest = text[pos:]
        op = next((o for o in ("|=", "!=", "|~", "!~") if rest.startswith(o)), None)
        if op:
            m = re.match(r'\s*("(?:[^"\\]|\\.)*"|`[^`]*`)', text[pos + 2 :])
            if not m:
                raise QueryError(
                    f"parse error at line 1, col {pos + 3}: syntax error: unexpected end, expecting STRING"
                )
            filters.append((op, _string(m.group(1))))
            pos += 2 + m.end()
        elif rest.startswith("|"):
            pos += 1
            quote = None
            while pos < len(text) and (quote or text[pos] != "|"):
                ch = text[pos]
                quote = None if ch == quote else (ch if ch in '"`' and not quote else quote)
                pos += 1
        elif rest[0].isspace():
            pos += 1
        else:
            raise QueryError(f"parse error at line 1, col {pos + 1}: syntax error: unexpected IDENTIFIER")
    return filters


def _select(streams: list[dict[str, Any]], matchers: list[Matcher]) -> list[dict[str, Any]]:
    def ok(labels: dict[str, str]) -> bool:
        for name, op, value in matchers:
            have = labels.get(name, "")
            hit = have == value if op in ("=", "!=") else re.fullmatch(value, have) is not None
            if hit != (op in ("=", "=~")):
                return False
        return True

    return [s for s in streams if ok(s["stream"])]


def _keep(line: str, filters: list[tuple[str, str]]) -> bool:
    for op, value in filters:
        hit = value in line if op in ("|=", "!=") else re.search(value, line) is not None
        if hit != (op in ("|=", "|~")):
            return False
    return True


def _log_entries(streams: list[dict[str, Any]], query: str, start: int, end: int) -> list[tuple[dict, int, str]]:
    matchers, rest = parse_selector(query)
    filters = parse_pipeline(rest)
    out = []
    for stream in _select(streams, matchers):
        for ts, line in stream["values"]:
            if start <= int(ts) < end and _keep(line, filters):
                out.append((stream["stream"], int(ts), line))
    return out


def _metric(streams: list[dict[str, Any]], query: str, times: list[int]) -> list[dict[str, Any]] | None:
    """Evaluate [sum by (..)] (count_over_time|rate)(<log query> [d]) at each time (ns); None: not a metric query."""
    agg = _AGG.match(query)
    by: list[str] | None = None
    inner = query
    if agg:
        by = [b.strip() for b in (agg.group(2) or agg.group(4) or "").split(",") if b.strip()]
        inner = agg.group(3)
    fn = _RANGE_FN.match(inner)
    if not fn:
        if agg or not query.strip().startswith("{"):
            raise QueryError("parse error at line 1, col 1: syntax error: unexpected IDENTIFIER")
        return None
    window = int(fn.group(3)) * _SECONDS[fn.group(4)] * 1_000_000_000
    entries = _log_entries(streams, fn.group(2), min(times) - window, max(times) + 1)
    series: dict[tuple, dict[str, Any]] = {}
    for t in times:
        groups: dict[tuple, float] = {}
        for labels, ts, _ in entries:
            if t - window < ts <= t:
                key_labels = labels if by is None else {k: v for k, v in labels.items() if k in by}
                key = tuple(sorted(key_labels.items()))
                groups[key] = groups.get(key, 0) + 1
        for key, count in groups.items():
            value = count / (window / 1e9) if fn.group(1) == "rate" else count
            item = series.setdefault(key, {"metric": dict(key), "values": []})
            item["values"].append([t / 1e9, _fmt(value)])
    return list(series.values())


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _ns(value: str | None, default: int) -> int:
    if not value:
        return default
    if re.fullmatch(r"\d+", value):
        number = int(value)
        return number if number > 10**14 else number * 1_000_000_000
    return int(float(value) * 1e9)


def handle_loki(streams: list[dict[str, Any]], path: str, params: dict[str, str]) -> tuple[int, Any]:
    now = now_ns()
    start = _ns(params.get("start"), now - 3600 * 10**9)
    end = _ns(params.get("end"), now)
    stats = {"summary": {"bytesProcessedPerSecond": 0, "linesProcessedPerSecond": 0, "execTime": 0.001}}
    try:
        if path in ("/loki/api/v1/query_range", "/loki/api/v1/query"):
            query = params.get("query") or ""
            if path.endswith("/query"):
                times = [_ns(params.get("time"), now)]
            else:
                step = int(float(params.get("step") or 60) * 1e9)
                times = list(range(start, end + 1, step))
            series = _metric(streams, query, times)
            if series is not None:
                if path.endswith("/query"):
                    vector = [{"metric": s["metric"], "value": s["values"][-1]} for s in series]
                    return 200, {
                        "status": "success",
                        "data": {"resultType": "vector", "result": vector, "stats": stats},
                    }
                return 200, {"status": "success", "data": {"resultType": "matrix", "result": series, "stats": stats}}
            entries = _log_entries(streams, query, start, end)
            backward = params.get("direction", "backward") == "backward"
            entries.sort(key=lambda e: e[1], reverse=backward)
            entries = entries[: int(params.get("limit") or 100)]
            grouped: dict[tuple, dict[str, Any]] = {}
            for labels, ts, line in entries:
                key = tuple(sorted(labels.items()))
                grouped.setdefault(key, {"stream": dict(labels), "values": []})["values"].append([str(ts), line])
            result = list(grouped.values())
            return 200, {"status": "success", "data": {"resultType": "streams", "result": result, "stats": stats}}
        live = [s for s in streams if any(start <= int(ts) <= end for ts, _ in s["values"])]
        if params.get("query"):
            live = _select(live, parse_selector(params["query"])[0])
        if path == "/loki/api/v1/labels":
            names = sorted({k for s in live for k in s["stream"]})
            return 200, {"status": "success", "data": names}
        m = re.fullmatch(r"/loki/api/v1/label/([^/]+)/values", path)
        if m:
            values = sorted({s["stream"][m.group(1)] for s in live if m.group(1) in s["stream"]})
            return 200, {"status": "success", "data": values}
        if path == "/loki/api/v1/series":
            return 200, {"status": "success", "data": [s["stream"] for s in live]}
    except QueryError as exc:
        return 400, str(exc)
    except re.error as exc:
        return 400, f"parse error : invalid regex: {exc}"
    return 404, "404 page not found\n"


# ---------------------------------------------------------------------------------------------------------
# Prometheus (selectors and number literals only) with exact formats; errors as {"status":"error",...}.

_PROM_SELECTOR = re.compile(r"^\s*([A-Za-z_:][A-Za-z0-9_:]*)?\s*(\{.*\})?\s*$", re.S)
LOOKBACK_S = 300


def _prom_error(status: int, kind: str, message: str) -> tuple[int, Any]:
    return status, {"status": "error", "errorType": kind, "error": message}


def _prom_select(series: list[dict[str, Any]], expr: str) -> list[dict[str, Any]] | None:
    m = _PROM_SELECTOR.match(expr)
    if not m or not (m.group(1) or m.group(2)):
        return None
    matchers = parse_selector(m.group(2))[0] if m.group(2) else []
    if m.group(1):
        matchers.append(("__name__", "=", m.group(1)))
    return _select([{"stream": s["metric"], "s": s} for s in series], matchers)


def _sample_at(samples: list[tuple[float, Any]], t: float) -> Any:
    inside = [(ts, value) for ts, value in samples if t - LOOKBACK_S < ts <= t]
    return max(inside, key=lambda pair: pair[0])[1] if inside else None


def handle_prometheus(
    series: list[dict[str, Any]], path: str, params: dict[str, str], match: list[str]
) -> tuple[int, Any]:
    expr = params.get("query", "")
    if path in ("/api/v1/query", "/api/v1/query_range"):
        if expr.count("(") != expr.count(")") or expr.count("{") != expr.count("}") or not expr.strip():
            return _prom_error(400, "bad_data", f'invalid parameter "query": 1:{len(expr)}: parse error: unclosed')
        try:
            float(expr)
            literal = True
        except ValueError:
            literal = False
        try:
            selected = None if literal else _prom_select(series, expr)
        except QueryError as exc:
            return _prom_error(400, "bad_data", f'invalid parameter "query": {exc}')
        if not literal and selected is None:
            return _prom_error(422, "execution", "the fake Prometheus only evaluates selectors")
        if path == "/api/v1/query":
            t = float(params.get("time") or time.time())
            if literal:
                return 200, {"status": "success", "data": {"resultType": "scalar", "result": [t, expr]}}
            vector = []
            for item in selected or []:
                value = _sample_at(item["s"]["samples"], t)
                if value is not None:
                    vector.append({"metric": item["stream"], "value": [t, str(value)]})
            return 200, {"status": "success", "data": {"resultType": "vector", "result": vector}}
        start, end, step = float(params["start"]), float(params["end"]), float(params["step"])
        if (end - start) / step > 11000:
            return _prom_error(400, "bad_data", "exceeded maximum resolution of 11,000 points per timeseries")
        times = [start + i * step for i in range(int((end - start) // step) + 1)]
        matrix = []
        for item in selected or []:
            values = [[t, str(v)] for t in times if (v := _sample_at(item["s"]["samples"], t)) is not None]
            if values:
                matrix.append({"metric": item["stream"], "values": values})
        return 200, {"status": "success", "data": {"resultType": "matrix", "result": matrix}}
    metrics = [s["metric"] for s in series]
    if match:
        keep = [s["stream"] for m in match for s in (_prom_select(series, m) or [])]
        metrics = [m for m in metrics if m in keep]
    if path == "/api/v1/labels":
        return 200, {"status": "success", "data": sorted({k for m in metrics for k in m})}
    m = re.fullmatch(r"/api/v1/label/([^/]+)/values", path)
    if m:
        return 200, {"status": "success", "data": sorted({x[m.group(1)] for x in metrics if m.group(1) in x})}
    if path == "/api/v1/series":
        return 200, {"status": "success", "data": metrics}
    return 404, {"status": "error", "errorType": "not_found", "error": "404 page not found"}
