"""A fake Loki push receiver: a real aiohttp server on 127.0.0.1 taking POST /loki/api/v1/push as Loki does.

From Loki's HTTP API reference (https://grafana.com/docs/loki/latest/reference/loki-http-api/#ingest-logs):
`Content-Type: application/json`, body
`{"streams":[{"stream":{"label":"value"},"values":[["<unix ns as a string>","<line>"], ...]}]}`; basic auth as on
Grafana Cloud (the instance id and a logs:write token). 204 when every line is taken; 401 for wrong credentials;
429 or 503 when told; 400 for a bad body (nothing taken), and a 400 that is a partial acceptance, as Loki's:
the valid lines of the push are stored and the answer names the others, in Loki's own two formats:

- the distributor's validation (too old, too new, longer than max_line_size) drops entries before the
  ingesters and answers its grouped errors: the distinct messages joined by "; ", each prefixed with
  "N errors like: " when there is more than one message or more than one of it (pkg/util/errors GroupedErrors);
- the ingester refuses entries too far behind its stream's newest line (max_chunk_age / 2) and answers, for the
  last stream that had any, up to 10 "entry with timestamp <t> ignored, reason: '<why>'," lines and "user '<id>',
  total ignored: N out of M for stream: {labels}" (pkg/ingester/stream.go). That answer wins over the
  distributor's: the lines validation dropped are then not named at all.

Unlike Loki, it keeps an exact duplicate twice, so a test sees a line that was pushed twice.

`streams` has FakeGrafana's shape, so `grafana.streams = loki.streams` lets queries through the fake Grafana see
what was pushed.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

PUSH_PATH = "/loki/api/v1/push"
OUT_OF_ORDER_WINDOW_NS = 3600 * 10**9  # Loki's accepted window behind a stream's newest line (max_chunk_age / 2)
TOO_OLD_NS = 7 * 24 * 3600 * 10**9  # reject_old_samples_max_age: 168h
TOO_NEW_NS = 10 * 60 * 10**9  # creation_grace_period: 10m
MAX_LINE_SIZE = 256 * 1024  # max_line_size: 256KB (datasize: 1 KB = 1024 B)
MAX_RETURNED_ERRORS = 10  # ingester.max-ignored-stream-errors


@dataclass
class Push:
    status: int
    authorized: bool
    content_type: str
    body: bytes
    lines: int = 0
    answer: str = ""  # the response body


@dataclass
class FakeLoki:
    user: str = "123456"
    token: str = "glc_test-loki-push-token-0001"
    streams: list[dict[str, Any]] = field(default_factory=list)
    pushes: list[Push] = field(default_factory=list)
    status: int | None = None  # answer every push with this status (503: down, 429: rate-limited); None: up
    retry_after: str | None = None
    taken: int = 0  # lines taken so far
    max_line_size: int = MAX_LINE_SIZE
    refusal_text: str | None = None  # with status 400: answer it (a proxy's wording), taking nothing
    url: str = ""
    _runner: web.AppRunner | None = None
    _pushed: asyncio.Condition | None = None
    _newest: dict[tuple[tuple[str, str], ...], int] = field(default_factory=dict)

    async def __aenter__(self) -> FakeLoki:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post(PUSH_PATH, self._push)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self._pushed = asyncio.Condition()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def push_url(self) -> str:
        return self.url + PUSH_PATH

    def down(self, status: int = 503) -> None:
        self.status = status

    def up(self) -> None:
        self.status = None

    def lines(self) -> list[tuple[dict[str, str], int, str]]:
        """Every line taken: (labels, ns, line)."""
        return [(s["stream"], int(ts), line) for s in self.streams for ts, line in s["values"]]

    async def wait_lines(self, count: int, timeout: float = 10.0) -> None:
        """Until at least `count` lines have been taken."""
        assert self._pushed is not None
        async with self._pushed:
            await asyncio.wait_for(self._pushed.wait_for(lambda: self.taken >= count), timeout)

    async def wait_for(self, predicate: Callable[[FakeLoki], bool], timeout: float = 10.0) -> None:
        """Until `predicate(self)` holds, re-checked after every push."""
        assert self._pushed is not None
        async with self._pushed:
            await asyncio.wait_for(self._pushed.wait_for(lambda: predicate(self)), timeout)

    def _authorized(self, request: web.Request) -> bool:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return False
        return (user, password) == (self.user, self.token)

    async def _push(self, request: web.Request) -> web.Response:
        body = await request.read()
        content_type = request.headers.get("Content-Type", "")
        record = Push(0, self._authorized(request), content_type, body)
        self.pushes.append(record)
        response = self._handle(record, body, content_type)
        record.status, record.answer = response.status, response.text or ""
        assert self._pushed is not None
        async with self._pushed:
            self._pushed.notify_all()
        return response

    def _handle(self, record: Push, body: bytes, content_type: str) -> web.Response:
        if not record.authorized:
            return web.Response(status=401, text="invalid authentication credentials\n")
        if self.status == 400 and self.refusal_text is not None:
            return web.Response(status=400, text=self.refusal_text + "\n")
        if self.status is not None:
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            text = "Ingestion rate limit exceeded\n" if self.status == 429 else "no healthy ingesters\n"
            return web.Response(status=self.status, text=text, headers=headers)
        if not content_type.startswith("application/json"):
            return web.Response(status=400, text="snappy: corrupt input\n")  # anything else is read as protobuf
        try:
            streams = parse_push(body)
        except ValueError as exc:
            return web.Response(status=400, text=f"{exc}\n")
        now = time.time_ns()
        invalid: list[str] = []  # the distributor's validation errors, one per dropped entry
        ingester_error = ""  # the last stream with entries too far behind
        for labels, values in streams:
            valid = []
            for ns, line in values:
                error = self._validate(labels, ns, line, now)
                if error:
                    invalid.append(error)
                else:
                    valid.append((ns, line))
            if valid:
                ingester_error = self._append(record, labels, valid) or ingester_error
        self.taken += record.lines
        if ingester_error:
            return web.Response(status=400, text=ingester_error + "\n")
        if invalid:
            return web.Response(status=400, text=grouped_errors(invalid) + "\n")
        return web.Response(status=204)

    def _validate(self, labels: dict[str, str], ns: int, line: str, now: int) -> str:
        """pkg/distributor/validator.go ValidateEntry: the error message, "" when the entry is valid."""
        stream = _selector(labels)
        if ns < now - TOO_OLD_NS:
            return (
                f"entry for stream '{stream}' has timestamp too old: {_rfc3339(ns)}, "
                f"oldest acceptable timestamp is: {_rfc3339(now - TOO_OLD_NS)}"
            )
        if ns > now + TOO_NEW_NS:
            return f"entry for stream '{stream}' has timestamp too new: {_rfc3339(ns)}"
        size = len(line.encode())
        if self.max_line_size and size > self.max_line_size:
            return (
                f"max entry size '{self.max_line_size}' bytes exceeded for stream '{stream}' "
                f"while adding an entry with length '{size}' bytes"
            )
        return ""

    def _append(self, record: Push, labels: dict[str, str], values: list[tuple[int, str]]) -> str:
        """The ingester's append (unordered writes): the stream's refusal as Loki words it, "" when none."""
        target = self._stream(labels)
        key = tuple(sorted(labels.items()))
        newest = self._newest.get(key, 0)
        ignored = []
        for ns, line in values:
            cutoff = newest - OUT_OF_ORDER_WINDOW_NS
            if newest and ns < cutoff:
                reason = (
                    f"entry too far behind, entry timestamp is: {_rfc3339(ns)}, "
                    f"oldest acceptable timestamp is: {_rfc3339(cutoff)}"
                )
                ignored.append(f"entry with timestamp {_go_time(ns)} ignored, reason: '{reason}',\n")
                continue
            target["values"].append([str(ns), line])
            newest = max(newest, ns)
            record.lines += 1
        self._newest[key] = newest
        if not ignored:
            return ""
        named = "".join(ignored[:MAX_RETURNED_ERRORS])
        total = (
            f"user '{self.user}', total ignored: {len(ignored)} out of {len(values)} for stream: {_selector(labels)}"
        )
        return named + total

    def _stream(self, labels: dict[str, str]) -> dict[str, Any]:
        for stream in self.streams:
            if stream["stream"] == labels:
                return stream
        stream = {"stream": dict(labels), "values": []}
        self.streams.append(stream)
        return stream


def _selector(labels: dict[str, str]) -> str:
    """Prometheus labels.String(): sorted, `name="value"` joined by ", "."""
    return "{" + ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in sorted(labels.items())) + "}"


def grouped_errors(messages: list[str]) -> str:
    """pkg/util/errors GroupedErrors.Error(): each distinct message once, counted when it needs a count."""
    counts: dict[str, int] = {}
    for message in messages:
        counts[message] = counts.get(message, 0) + 1
    several = len(counts) > 1
    return "; ".join(f"{n} errors like: {m}" if several or n > 1 else m for m, n in counts.items())


def _rfc3339(ns: int) -> str:
    """Go's time.Format(time.RFC3339) in UTC: whole seconds."""
    return datetime.fromtimestamp(ns // 10**9, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _go_time(ns: int) -> str:
    """Go's time.Time.String() in UTC: "2006-01-02 15:04:05.999999999 +0000 UTC", trailing zeros trimmed."""
    seconds, fraction = divmod(ns, 10**9)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")
    if fraction:
        text += "." + f"{fraction:09d}".rstrip("0")
    return text + " +0000 UTC"


def parse_push(body: bytes) -> list[tuple[dict[str, str], list[tuple[int, str]]]]:
    """The push JSON as Loki reads it; ValueError with Loki-like wording when it is not that."""
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise ValueError(f"loghttp.PushRequest: invalid JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("streams"), list):
        raise ValueError('loghttp.PushRequest: expected {"streams":[...]}')
    out = []
    for stream in doc["streams"]:
        labels = stream.get("stream") if isinstance(stream, dict) else None
        values = stream.get("values") if isinstance(stream, dict) else None
        if not isinstance(labels, dict) or not labels or not isinstance(values, list):
            raise ValueError("error at least one label pair is required per stream")
        if not all(isinstance(k, str) and isinstance(v, str) and k and not k[0].isdigit() for k, v in labels.items()):
            raise ValueError(f"error parsing labels {labels!r}")
        entries = []
        for value in values:
            if not isinstance(value, list) or len(value) not in (2, 3):
                raise ValueError("loghttp.PushRequest.Streams: Values: expected [timestamp, line(, metadata)]")
            ts, line = value[0], value[1]
            if not isinstance(ts, str) or not ts.isdigit():
                raise ValueError(f"loghttp.PushRequest.Streams: Values: timestamp must be a string of ns: {ts!r}")
            if not isinstance(line, str):
                raise ValueError("loghttp.PushRequest.Streams: Values: the line must be a string")
            entries.append((int(ts), line))
        out.append((labels, entries))
    return out
