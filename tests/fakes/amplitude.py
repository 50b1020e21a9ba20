"""A local Amplitude Dashboard REST API on 127.0.0.1, speaking the wire format of Amplitude's
Dashboard REST API reference (https://amplitude.com/docs/apis/analytics/dashboard-rest).

    async with FakeAmplitude() as amp:
        amp.add_events("Agent Failed", date(2026, 2, 17), 3, error_type="TimeoutError", agent_id="a1")
        ...                                  # app under test: AMPLITUDE_API_URL=amp.url
        amp.requests                         # every request, recorded

Basic auth is checked (401 otherwise). Failures can be injected (429 naming a limit, with Retry-After; any
status). Segmentation takes a second event as `e2` (its series follow the first event's, told apart by
`seriesMeta[].eventIndex`) and refuses a range longer than the interval serves (hourly: 7 days) with
Amplitude's 400 "Time range exceeds maximum of N ms". Series labels come in three variants (label_mode
"list" [0, "value"], "string", "int"). `answer` serves a given body (a documented but rare shape: nulls, empty or
missing seriesLabels) in place of evaluating. `max_in_flight` is the most requests seen at once; `delay` holds
each request that long, `hold` until a test sets it, so concurrency is observable. Buckets, properties and
filters live in amplitude_query.py.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiohttp import web

from .amplitude_answers import Answer, Injection
from .amplitude_query import (
    DAY_MS,
    INTERVALS,
    MAX_RANGE_MS,
    METRICS,
    Bucket,
    buckets,
    event_matches,
    filter_matches,
    prop,
)

AGENT_EVENTS = ("Agent Started", "Agent Completed", "Agent Failed", "Agent Timeout", "API Error")


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    authorized: bool

    @property
    def e(self) -> dict[str, Any]:
        """The decoded `e` parameter of a segmentation request."""
        return json.loads(self.query["e"])


class FakeAmplitude:
    def __init__(
        self,
        api_key: str = "test-api-key-0001",
        secret_key: str = "test-secret-key-0001",
        *,
        today: date | None = None,
        label_mode: str = "list",
        delay: float = 0.0,
    ) -> None:
        self.api_key, self.secret_key = api_key, secret_key
        self.today = today or datetime.now(UTC).date()
        self.label_mode = label_mode
        self.delay = delay
        self.buckets: list[Bucket] = []
        self.flags: dict[str, dict[str, bool]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.annotations: list[dict[str, Any]] = []
        self.v3_enabled = True
        self.injections: list[Injection] = []
        self.answers: list[Answer] = []
        self.hold: asyncio.Event | None = None
        self.on_request: Callable[[Recorded], None] | None = None  # called as each request arrives (tests)
        self.requests: list[Recorded] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()  # ends every delay at once when the fake closes
        self.url = ""

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def start(self) -> FakeAmplitude:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/api/2/events/segmentation", self._segmentation)
        app.router.add_get("/api/2/events/list", self._events_list)
        app.router.add_get("/api/2/usersearch", self._usersearch)
        app.router.add_get("/api/2/useractivity", self._useractivity)
        app.router.add_get("/api/3/annotations", self._annotations_v3)
        app.router.add_get("/api/2/annotations", self._annotations_v2)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def close(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeAmplitude:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- configuration -------------------------------------------------------------------------------------

    def add_events(
        self,
        event_type: str,
        day: date,
        count: int = 1,
        *,
        hour: int = 0,
        user_id: str = "user-1",
        user_properties: dict[str, Any] | None = None,
        **properties: Any,
    ) -> None:
        self.buckets.append(Bucket(event_type, day, count, hour, user_id, properties, user_properties or {}))
        self.flags.setdefault(event_type, {})

    def define_event(self, name: str, *, deleted: bool = False, hidden: bool = False, non_active: bool = False) -> None:
        """An event type in the project's list (with or without volume), with its flags."""
        self.flags[name] = {"deleted": deleted, "hidden": hidden, "non_active": non_active}

    def add_user(
        self, user_id: str, amplitude_id: int, events: list[dict[str, Any]] | None = None, **data: Any
    ) -> None:
        """A user; events are {"event_type", "event_time" ("YYYY-MM-DD HH:MM:SS.ffffff"), "event_properties"}."""
        self.users[user_id] = {"user_id": user_id, "amplitude_id": amplitude_id, "events": events or [], **data}

    def add_annotation(
        self, start: str, label: str, details: str = "", *, end: str | None = None, category: str | None = None
    ) -> None:
        """An annotation, served by v3 (start/end/category) and v2 (date only)."""
        row = {"start": start, "end": end, "label": label, "details": details, "category": category}
        self.annotations.append({"id": len(self.annotations) + 1, **row})

    def inject(
        self, status: int, body: str, *, times: int = 1, retry_after: str | None = None, path: str | None = None
    ) -> None:
        """Answer the next `times` requests (to `path`, a prefix) with this status and body."""
        self.injections.append(Injection(status, body, times, retry_after, path))

    def answer(
        self,
        body: Any,
        *,
        path: str = "/api/2/events/segmentation",
        event: str | None = None,
        grouped: bool | None = None,
        times: int | None = None,
    ) -> None:
        """Answer requests to `path` (a segmentation: of `event`, with or without a group-by) with this JSON body
        instead of evaluating them."""
        self.answers.append(Answer(body, path, event, grouped, times))

    def inject_429(self, body: str = "Exceeded concurrent limit.", **kw: Any) -> None:
        """A 429 whose body names the limit (times, retry_after and path as for inject)."""
        self.inject(429, body, **kw)

    def requests_to(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    # -- plumbing ------------------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        authorized = self._authorized(request.headers.get("Authorization", ""))
        self.requests.append(Recorded(request.method, request.path, dict(request.query), authorized))
        if self.on_request is not None:
            self.on_request(self.requests[-1])
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), self.delay)
            if self.hold is not None:
                await self.hold.wait()
            if not authorized:
                return web.Response(status=401, text="Invalid API key or secret key")
            for inj in self.injections:
                if inj.times > 0 and (inj.path is None or request.path.startswith(inj.path)):
                    inj.times -= 1
                    headers = {"Retry-After": inj.retry_after} if inj.retry_after is not None else {}
                    return web.Response(status=inj.status, text=inj.body, headers=headers)
            for given in reversed(self.answers):
                if given.takes(request):
                    given.times = None if given.times is None else given.times - 1
                    return web.json_response(given.body)
            return await handler(request)
        finally:
            self.in_flight -= 1

    def _authorized(self, header: str) -> bool:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(token).decode().partition(":")
        except ValueError:
            return False
        return user == self.api_key and password == self.secret_key

    @staticmethod
    def _bad(message: str) -> web.Response:
        return web.json_response({"error": message}, status=400)

    # -- segmentation --------------------------------------------------------------------------------------

    async def _segmentation(self, request: web.Request) -> web.Response:
        q = request.query
        events = []
        for name in ("e", "e2"):
            if name == "e2" and name not in q:
                break
            try:
                e = json.loads(q.get(name, ""))
            except ValueError:
                return self._bad(f"Invalid {name} parameter: not valid JSON")
            if not isinstance(e, dict) or not e.get("event_type"):
                return self._bad(f"Invalid {name} parameter: event_type is required")
            if len(e.get("group_by") or []) > 2:
                return self._bad(f"Invalid {name} parameter: at most 2 group_by")
            events.append(e)
        try:
            start = datetime.strptime(q["start"], "%Y%m%d").date()
            end = datetime.strptime(q["end"], "%Y%m%d").date()
            interval = int(q.get("i", "1"))
        except (KeyError, ValueError):
            return self._bad("start and end are required as YYYYMMDD")
        metric = q.get("m", "uniques")
        if interval not in INTERVALS or metric not in METRICS or start > end:
            return self._bad(f"Invalid interval {interval}, metric {metric} or date range")
        span_ms = ((end - start).days + 1) * DAY_MS
        if span_ms > MAX_RANGE_MS[interval]:
            # Amplitude caps real-time at 2 days, hourly at 7 and daily at 365, and says so in these words.
            return web.Response(status=400, text=f"Time range exceeds maximum of {MAX_RANGE_MS[interval]} ms")
        x_values, key_of = buckets(start, end, interval)
        series: list[tuple[int, tuple[str, ...], list[int], int]] = []
        for index, e in enumerate(events):
            try:
                rows = self._rows(e, start, end, metric, len(x_values), key_of)
            except ValueError as exc:
                return self._bad(str(exc))
            series += [(index, *row) for row in rows[: int(q.get("limit", "100"))]]
        return web.json_response(
            {
                "data": {
                    "series": [r[2] for r in series],
                    "seriesLabels": [self._label(i, r[1]) for i, r in enumerate(series)],
                    "seriesCollapsed": [[{"setId": "", "value": r[3]}] for r in series],
                    "seriesMeta": [{"segmentIndex": 0, "eventIndex": r[0]} for r in series],
                    "xValues": x_values,
                }
            }
        )

    def _rows(
        self, e: dict[str, Any], start: date, end: date, metric: str, width: int, key_of: Any
    ) -> list[tuple[tuple[str, ...], list[int], int]]:
        """One event's series: (group key, values per bucket, total), busiest first."""
        group_by = e.get("group_by") or []
        matched = [b for b in self.buckets if start <= b.day <= end and event_matches(b, e["event_type"])]
        matched = [b for b in matched if all(filter_matches(b, f) for f in e.get("filters") or [])]
        groups: dict[tuple[str, ...], list[Bucket]] = defaultdict(list)
        for b in matched:
            groups[tuple(prop(b, g.get("type", "event"), g.get("value", "")) for g in group_by)].append(b)
        if not group_by and not groups:
            groups[()] = []
        rows = []
        for key, items in groups.items():
            values = [0] * width
            users: list[set[str]] = [set() for _ in range(width)]
            for b in items:
                index = key_of(b)
                values[index] += b.count
                users[index].add(b.user_id)
            if metric == "uniques":
                values = [len(u) for u in users]
            total = len({b.user_id for b in items}) if metric == "uniques" else sum(values)
            rows.append((key, values, total))
        rows.sort(key=lambda r: -r[2])
        return rows

    def _label(self, index: int, key: tuple[str, ...]) -> Any:
        if not key:
            return 0
        text = "; ".join(key)
        if self.label_mode == "string":
            return text
        if self.label_mode == "int":
            return int(text) if text.lstrip("-").isdigit() else index
        return [0, text]

    # -- the other endpoints -------------------------------------------------------------------------------

    async def _events_list(self, request: web.Request) -> web.Response:
        week_start = self.today - timedelta(days=6)
        totals: dict[str, int] = defaultdict(int)
        for b in self.buckets:
            if week_start <= b.day <= self.today:
                totals[b.event_type] += b.count
        data = [
            {
                "value": name,
                "display": name,
                "totals": totals.get(name, 0),
                "non_active": bool(flags.get("non_active")),
                "deleted": bool(flags.get("deleted")),
                "hidden": bool(flags.get("hidden")),
                "flow_hidden": False,
            }
            for name, flags in self.flags.items()
        ]
        return web.json_response({"data": data})

    async def _usersearch(self, request: web.Request) -> web.Response:
        user = request.query.get("user")
        if not user:
            return self._bad("user is required")
        matches = [
            {
                "user_id": u["user_id"],
                "amplitude_id": u["amplitude_id"],
                "last_seen": u.get("last_used"),
                "platform": u.get("platform"),
                "country": u.get("country"),
            }
            for u in self.users.values()
            if user in (u["user_id"], str(u["amplitude_id"]))
        ]
        if not matches:
            return web.json_response({"type": "nomatch", "matches": []})
        return web.json_response({"type": "match_user_or_device_id", "matches": matches})

    async def _useractivity(self, request: web.Request) -> web.Response:
        user = next((u for u in self.users.values() if str(u["amplitude_id"]) == request.query.get("user")), None)
        if user is None:
            return self._bad("Invalid user: no such amplitude_id")
        limit = int(request.query.get("limit", "1000"))
        offset = int(request.query.get("offset", "0"))
        newest = sorted(user["events"], key=lambda ev: ev["event_time"], reverse=True)[offset : offset + limit]
        user_data = {k: v for k, v in user.items() if k not in ("events", "amplitude_id")}
        user_data["num_events"] = len(user["events"])
        # Oldest first on purpose: clients must not rely on the order.
        return web.json_response({"userData": user_data, "events": sorted(newest, key=lambda ev: ev["event_time"])})

    async def _annotations_v3(self, request: web.Request) -> web.Response:
        if not self.v3_enabled:
            return web.Response(status=404, text="Not Found")
        try:
            start = datetime.fromisoformat(request.query["start"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(request.query["end"].replace("Z", "+00:00"))
        except (KeyError, ValueError):
            return self._bad("start and end are required in ISO 8601")
        data = []
        for a in self.annotations:
            first = datetime.fromisoformat(a["start"].replace("Z", "+00:00"))
            first = first if first.tzinfo else first.replace(tzinfo=UTC)
            if start <= first <= end:
                category = {"id": 1, "name": a["category"]} if a["category"] else None
                data.append({**a, "chart_id": None, "category": category})
        return web.json_response({"data": data})

    async def _annotations_v2(self, request: web.Request) -> web.Response:
        data = [
            {"id": a["id"], "date": a["start"][:10], "label": a["label"], "details": a["details"]}
            for a in self.annotations
        ]
        return web.json_response({"data": data})
