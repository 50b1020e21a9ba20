"""The Amplitude Dashboard REST API client: one httpx client, Basic auth, at most 5 requests in flight, 429 handled.

Other code (the scheduled-report builder) may use it directly; every method returns plain data.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx

from skills.amplitude.annotations import Annotation, parse_v2, parse_v3
from skills.amplitude.events import EventType, parse_events_list
from skills.amplitude.segmentation import (
    INTERVAL_NAMES,
    INTERVALS,
    Filter,
    GroupBy,
    Series,
    build_e,
    parse_series,
    split_events,
)
from skills.amplitude.users import UserActivity, UserMatch, parse_activity, parse_matches
from skills.base import SkillError
from skills.cache import SwrCache
from skills.http import RetryPolicy, make_client, send
from supervisor import Supervisor

INTEGRATION = "Amplitude"
EVENTS_TTL_S = 300.0
REGION_BASES = {"us": "https://amplitude.com", "eu": "https://analytics.eu.amplitude.com"}
MAX_IN_FLIGHT = 5  # Amplitude allows 5 concurrent requests per project
CLIENT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
DEFAULT_RETRY = RetryPolicy(attempts=3, backoff=1.0, max_wait=10.0)
ANNOTATIONS_V3_UNSUPPORTED = frozenset({404, 405, 410, 501})
# The longest range (start..end, whole days) each interval serves: real-time 2 days, hourly 7, daily 365.
MAX_RANGE_DAYS = {-300000: 2, -3600000: 7, 1: 365}
_RANGE_NAMES = {-300000: "real-time", -3600000: "hourly", 1: "daily"}

# Which limit a 429 body names (matched case-insensitively), and what Amplitude documents for it: 5 requests at
# once per project; a concurrent cost of 1,000 (the queries running at once) and 108,000 cost per hour, where a
# query costs (days) x (conditions: segments, each group-by counting 4) x (its type's cost); user search and
# user activity 360 per hour.
_LIMITS = (
    ("concurrent cost", "the concurrent cost limit (1,000 for the queries running at once)"),
    ("concurrent", "the concurrent request limit (5 requests in flight per project)"),
    ("cost", "the query cost limit (108,000 cost per hour; 1,000 concurrent cost)"),
    ("budget", "the query cost limit (108,000 cost per hour; 1,000 concurrent cost)"),
    ("user", "the user search/activity limit (360 per hour)"),
)


def interval_for(wanted: str | int, start: date, end: date) -> str:
    """The interval to ask for over start..end (both windows of a comparison): hourly only when it fits 7 days."""
    name = INTERVAL_NAMES.get(wanted, str(wanted)) if isinstance(wanted, int) else wanted
    cap = MAX_RANGE_DAYS.get(INTERVALS.get(name, 1), 365)
    return name if (end - start).days + 1 <= cap else "day"


def base_url_for(region: str, override: str | None = None) -> str:
    """The API base URL for a region (us | eu); `override` (AMPLITUDE_API_URL) wins."""
    if override:
        return override.rstrip("/")
    try:
        return REGION_BASES[region.lower()]
    except KeyError:
        raise SkillError(INTEGRATION, f"unknown region {region!r}", "use 'us' or 'eu'") from None


class AmplitudeClient:
    """Async client for one Amplitude project. Share one instance: its semaphore bounds requests in flight."""

    def __init__(
        self,
        api_key: str,
        secret_key: str,
        *,
        base_url: str = REGION_BASES["us"],
        key_sources: Sequence[str] = ("AMPLITUDE_API_KEY", "AMPLITUDE_SECRET_KEY"),
        retry: RetryPolicy | None = None,
        max_in_flight: int = MAX_IN_FLIGHT,
        timeout: httpx.Timeout | float = CLIENT_TIMEOUT,
        supervisor: Supervisor | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key_sources = tuple(key_sources)
        self.retry = retry or DEFAULT_RETRY
        self._semaphore = asyncio.Semaphore(max_in_flight)
        self._events = SwrCache(EVENTS_TTL_S, supervisor, what="Amplitude")
        self._http = make_client(self.base_url, auth=(api_key, secret_key), timeout=timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AmplitudeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- endpoints -----------------------------------------------------------------------------------------

    async def segmentation(
        self,
        event_type: str,
        start: date,
        end: date,
        *,
        interval: int | str = 1,
        metric: str = "totals",
        filters: Sequence[Filter] | None = None,
        group_by: Sequence[GroupBy | str] | None = None,
        limit: int | None = None,
    ) -> Series:
        """Event segmentation from `start` to `end` (inclusive). interval: 1|7|30|-3600000 or day|week|month|hour.

        To compare a window with the one before it, query both in one call and use `Series.split(current_start)`.
        """
        i = INTERVALS[interval] if isinstance(interval, str) else interval
        groups = [GroupBy.parse(g) if isinstance(g, str) else g for g in group_by or ()]
        params = self._segmentation_params(build_e(event_type, filters or (), groups), start, end, i, metric)
        if limit is not None:
            params["limit"] = limit
        body = await self._get_json("/api/2/events/segmentation", params)
        return parse_series(body, event_type=event_type, metric=metric, interval=i, grouped=bool(groups))

    async def segmentation_pair(
        self, first: str, second: str, start: date, end: date, *, interval: int | str = 1, metric: str = "totals"
    ) -> tuple[Series, Series]:
        """Two events (`e` and `e2`) in one call, without filters or group-bys: one Series each."""
        i = INTERVALS[interval] if isinstance(interval, str) else interval
        params = self._segmentation_params(build_e(first), start, end, i, metric)
        params["e2"] = build_e(second)
        body = await self._get_json("/api/2/events/segmentation", params)
        one, two = split_events(body, 2)
        return (
            parse_series(one, event_type=first, metric=metric, interval=i, grouped=False),
            parse_series(two, event_type=second, metric=metric, interval=i, grouped=False),
        )

    @staticmethod
    def _segmentation_params(e: str, start: date, end: date, i: int, metric: str) -> dict[str, Any]:
        days = (end - start).days + 1
        cap = MAX_RANGE_DAYS.get(i)
        if cap is not None and days > cap:
            raise SkillError(
                INTEGRATION,
                f"{_RANGE_NAMES[i]} segmentation serves at most {cap} days, not {days}",
                "Ask for a shorter window or a coarser interval",
            )
        return {"e": e, "start": start.strftime("%Y%m%d"), "end": end.strftime("%Y%m%d"), "i": i, "m": metric}

    async def segmentation_vs_previous(
        self, event_type: str, start: date, end: date, **kwargs: Any
    ) -> tuple[Series, Series, tuple[date, date]]:
        """(previous, current, previous window) for [start, end] and the window of the same length before it.

        One segmentation call covers both windows (2N days); keyword arguments are those of `segmentation`.
        """
        days = (end - start).days + 1
        prev_start, prev_end = start - timedelta(days=days), start - timedelta(days=1)
        series = await self.segmentation(event_type, prev_start, end, **kwargs)
        previous, current = series.split(start)
        return previous, current, (prev_start, prev_end)

    async def events_list(self, *, fresh: bool = False) -> list[EventType]:
        """Every event type with this week's volume (`totals`), including deleted and hidden ones.

        Kept EVENTS_TTL_S and refreshed in the background (skills/cache.py), so a question that looks up event
        names first does not pay a round trip for it; fresh=True asks Amplitude now.
        """

        async def load() -> list[EventType]:
            return parse_events_list(await self._get_json("/api/2/events/list"))

        return list(await self._events.get("events", load, fresh=fresh))

    async def annotations(self, start: date, end: date) -> tuple[list[Annotation], str]:
        """Chart annotations in [start, end], newest first, and which API answered ("v3" or "v2")."""
        params = {
            "start": datetime.combine(start, time.min, UTC).isoformat().replace("+00:00", "Z"),
            "end": datetime.combine(end, time(23, 59, 59), UTC).isoformat().replace("+00:00", "Z"),
        }
        try:
            rows, source = parse_v3(await self._get_json("/api/3/annotations", params)), "v3"
        except SkillError as exc:
            if exc.status not in ANNOTATIONS_V3_UNSUPPORTED:
                raise
            rows, source = parse_v2(await self._get_json("/api/2/annotations")), "v2"
        rows = [r for r in rows if r.within(start, end)]
        rows.sort(key=lambda r: r.start, reverse=True)
        return rows, source

    async def user_search(self, user: str) -> list[UserMatch]:
        """Users whose user id, device id or Amplitude id matches `user`; [] when none does."""
        return parse_matches(await self._get_json("/api/2/usersearch", {"user": user}))

    async def user_activity(self, amplitude_id: int | str, limit: int = 50, offset: int = 0) -> UserActivity:
        """A user's profile summary and events, newest first (at most `limit`)."""
        params = {"user": str(amplitude_id), "limit": limit, "offset": offset, "direction": "latest"}
        activity = parse_activity(await self._get_json("/api/2/useractivity", params))
        activity.events.sort(key=lambda e: e.time, reverse=True)
        del activity.events[limit:]
        return activity

    # -- plumbing ------------------------------------------------------------------------------------------

    async def _get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        async with self._semaphore:
            try:
                response = await send(
                    self._http, "GET", path, params=params, policy=self.retry, integration=INTEGRATION
                )
            except httpx.HTTPError as exc:
                raise SkillError(
                    INTEGRATION,
                    f"cannot reach {self.base_url} ({type(exc).__name__})",
                    "Check the network, AMPLITUDE_API_URL and AMPLITUDE_REGION",
                ) from None
        if response.status_code != 200:
            raise self._error(path, response)
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise SkillError(
                INTEGRATION, f"{path} answered with something that is not JSON", status=response.status_code
            ) from None

    def _error(self, path: str, response: httpx.Response) -> SkillError:
        status = response.status_code
        said = error_text(response)
        if status in (401, 403):
            sources = " and ".join(self.key_sources)
            return SkillError(
                INTEGRATION,
                f"credentials were rejected (HTTP {status})",
                f"Check {sources} (the project's API key and secret key) and the region",
                status=status,
            )
        if status == 429:
            return SkillError(
                INTEGRATION,
                f"rate limit hit: {limit_name(said)}; Amplitude said: {said or 'HTTP 429'}",
                f"Tried {self.retry.attempts} times; wait a few minutes, or ask for fewer days or group-bys",
                status=status,
            )
        if status == 400:
            return SkillError(
                INTEGRATION,
                f"bad request: {said or 'HTTP 400'}",
                "Check the event name (list_events), filters and dates",
                status=status,
            )
        if status == 404:
            return SkillError(INTEGRATION, f"{path} was not found (HTTP 404)", "Check AMPLITUDE_API_URL", status=status)
        return SkillError(
            INTEGRATION, f"{path} failed with HTTP {status}: {said}".rstrip(": "), "Try again later", status=status
        )


def error_text(response: httpx.Response, limit: int = 300) -> str:
    """Amplitude's own error message from a JSON or plain-text body, on one line."""
    text = response.text.strip()
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("error", "message", "detail", "errors"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value.get("error") or json.dumps(value)
            if isinstance(value, list):
                value = "; ".join(str(v) for v in value)
            if value:
                text = str(value)
                break
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def limit_name(said: str) -> str:
    lowered = said.lower()
    for needle, name in _LIMITS:
        if needle in lowered:
            return name
    return "a rate limit"
