"""A local Slack: Web API, Socket Mode websocket and response_url on 127.0.0.1, speaking Slack's wire format.

    async with FakeSlack() as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        ...                                  # app under test: SLACK_API_URL=slack.api_url
        await slack.wait_connected()
        env = await slack.send_event(slack.message_event("how is prod?"))
        await slack.wait_ack(env)
        call = await slack.wait_for_call("chat.postMessage")

Every Web API call is recorded as a SlackCall (failed ones too, with ``error`` set). Times are
``time.monotonic()`` seconds. The Socket Mode half lives in slack_socket.py, the Web API methods in
slack_methods.py, Slack's payload limit checks in slack_checks.py and its rate limits in slack_limits.py
(enforced with ``FakeSlack(rate_limits=SlackLimits())``: chat.postMessage about once a second per channel, the
other methods by tier, then HTTP 429 with Retry-After). Slack's reference: Socket Mode
(https://api.slack.com/apis/socket-mode), the Web API methods (https://api.slack.com/methods), Block Kit limits
(https://api.slack.com/reference/block-kit/blocks) and rate limits (https://api.slack.com/apis/rate-limits).

Failures: ``fail_next`` answers the next calls of a method with a Slack error (``{"ok": false}``, or 429 with
Retry-After), or with a body that is not JSON (``body="<html>…"``, as a proxy or load balancer in front of Slack
answers a 502, or a 405 in text/plain).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aiohttp import web

from .slack_limits import SlackLimits
from .slack_methods import WebApiMixin
from .slack_socket import SocketModeMixin

RESPONSE_URL_USES, RESPONSE_URL_TTL = 5, 30 * 60.0  # Slack: up to 5 responses within 30 minutes
JSON_FIELDS = ("blocks", "attachments", "view", "metadata", "unfurls", "chunks")  # JSON strings in form bodies


@dataclass(frozen=True)
class _Failure:
    error: str
    status: int
    retry_after: int
    body: str | None  # not JSON: answered as is
    content_type: str


@dataclass
class SlackCall:
    method: str  # "chat.postMessage", or "response_url" for a POST to a response_url
    args: dict[str, Any]  # query + body; JSON-encoded form fields (blocks, view, ...) decoded
    token: str | None
    at: float  # time.monotonic()
    error: str | None = None  # the error the fake answered with; None when it answered ok


class FakeSlack(WebApiMixin, SocketModeMixin):
    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test-token",
        app_token: str = "xapp-test-token",
        team_id: str = "T123",
        app_id: str = "A123",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        users: dict[str, dict] | None = None,
        channels: dict[str, dict] | None = None,
        trigger_ttl: float = 3.0,
        rate_limits: SlackLimits | None = None,
    ) -> None:
        self.bot_token, self.app_token = bot_token, app_token
        self.team_id, self.app_id, self.bot_user_id, self.bot_id = team_id, app_id, bot_user_id, bot_id
        self.users: dict[str, dict] = {bot_user_id: {"name": "sitrep", "is_bot": True}, "U123": {"name": "alice"}}
        self.users.update(users or {})  # id -> overrides of the users.info user (is_admin, is_owner, name, tz, ...)
        # id -> overrides of conversations.info: is_member, is_private, is_archived. A private channel the bot
        # is not in is invisible (channel_not_found); a public one answers not_in_channel until joined.
        self.channels: dict[str, dict] = dict(channels or {})
        self.trigger_ttl = trigger_ttl
        self.calls: list[SlackCall] = []
        self.messages: dict[str, list[dict]] = {}  # channel -> messages posted or received, in ts order
        self.views: dict[str, dict] = {}  # view id -> view as returned
        self.home_views: dict[str, dict] = {}  # user id -> published Home tab view
        self.reactions: dict[tuple[str, str], set[str]] = {}  # (channel, ts) -> reaction names
        self.base_url = ""
        self._triggers: dict[str, float | None] = {}  # trigger_id -> issued at (None once exchanged)
        self._response_urls: dict[str, tuple[float, int]] = {}  # response id -> (issued at, posts left)
        self.rate_limits = rate_limits
        self._failures: dict[str, list[_Failure]] = {}
        self._calls_cond = asyncio.Condition()
        self._seq = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._socket_init()

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    # -- lifecycle ----------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{rid}", self._handle_response_url)
        app.router.add_get("/link/", self._handle_link)
        self._runner = web.AppRunner(app, shutdown_timeout=2.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.drop_connections(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()

    # -- ids ----------------------------------------------------------------------------------------

    def issue_ts(self) -> str:
        """A unique, increasing message ts ("1700000000.000100" style)."""
        n = next(self._seq) * 100
        return f"{1700000000 + n // 1_000_000}.{n % 1_000_000:06d}"

    def new_trigger_id(self, trigger_id: str | None = None) -> str:
        """Issue (or register) a trigger_id that views.open/views.push accept once within trigger_ttl."""
        trigger_id = trigger_id or f"{next(self._seq)}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex[:16]}"
        self._triggers[trigger_id] = time.monotonic()
        return trigger_id

    def new_response_url(self) -> str:
        """A response_url as Slack issues one: it takes at most RESPONSE_URL_USES posts within RESPONSE_URL_TTL."""
        rid = uuid.uuid4().hex
        self._response_urls[rid] = (time.monotonic(), RESPONSE_URL_USES)
        return f"{self.base_url}/response/{rid}"

    def expire_response_urls(self) -> None:
        """Every response_url issued so far is past Slack's 30 minutes: posts to them answer `expired_url`."""
        self._response_urls = {
            rid: (issued - RESPONSE_URL_TTL - 1, left) for rid, (issued, left) in self._response_urls.items()
        }

    # -- test helpers -------------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[SlackCall]:
        return [c for c in self.calls if c.method == method]

    def fail_next(
        self,
        method: str,
        error: str = "ratelimited",
        status: int = 429,
        retry_after: int = 1,
        *,
        times: int = 1,
        body: str | None = None,
        content_type: str = "text/html",
    ) -> None:
        """The next ``times`` calls of ``method`` fail: HTTP 429 with Retry-After, or {"ok": false, "error"}; with
        ``body``, that text (not JSON) with ``status`` and ``content_type``, as a proxy in front of Slack answers."""
        failure = _Failure(error, status, retry_after, body, content_type)
        self._failures.setdefault(method, []).extend([failure] * times)

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[SlackCall], bool] | None = None,
        timeout: float = 5.0,
        *,
        since: int = 0,
    ) -> SlackCall:
        """The first call to ``method`` among ``calls[since:]`` matching ``predicate``, waiting for it if needed."""

        def find() -> SlackCall | None:
            return next(
                (c for c in self.calls[since:] if c.method == method and (predicate is None or predicate(c))), None
            )

        try:
            async with asyncio.timeout(timeout), self._calls_cond:
                await self._calls_cond.wait_for(lambda: find() is not None)
        except TimeoutError:
            seen = [c.method for c in self.calls[since:]]
            raise TimeoutError(f"no matching {method} call within {timeout}s; calls seen: {seen}") from None
        return find()  # type: ignore[return-value]

    async def wait_until(self, done: Callable[[], bool], timeout: float = 5.0, what: str = "the condition") -> None:
        """Until `done()` holds, looked at again after every Web API call the fake records."""
        try:
            async with asyncio.timeout(timeout), self._calls_cond:
                await self._calls_cond.wait_for(done)
        except TimeoutError:
            raise TimeoutError(f"{what} did not hold within {timeout}s ({len(self.calls)} calls seen)") from None

    def thread(self, channel: str, thread_ts: str) -> list[dict]:
        """A thread's messages, parent first (what conversations.replies returns)."""
        return [m for m in self.messages.get(channel, []) if thread_ts in (m.get("ts"), m.get("thread_ts"))]

    def _store_message(self, channel: str, message: dict) -> None:
        self.messages.setdefault(channel, []).append(message)
        self.messages[channel].sort(key=lambda m: Decimal(m.get("ts", "0")))

    def _find_message(self, channel: str, ts: str) -> dict | None:
        return next((m for m in self.messages.get(channel, []) if m.get("ts") == ts), None)

    async def _record(self, call: SlackCall) -> None:
        async with self._calls_cond:
            self.calls.append(call)
            self._calls_cond.notify_all()

    # -- HTTP ---------------------------------------------------------------------------------------

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        """A POST of a message (JSON: text or blocks, response_type, replace_original...) to a response_url.
        Slack answers 200 `ok`; an unknown or expired URL `expired_url`, a sixth post `used_url`, no message
        `no_text`."""
        rid = request.match_info["rid"]
        try:
            args = await _read_args(request)
        except ValueError:
            args, error = {}, "invalid_payload"
        else:
            error = self._use_response_url(rid, args)
        args["_response_id"] = rid
        await self._record(SlackCall("response_url", args, None, time.monotonic(), error))
        if error:
            return web.Response(status=404 if error in ("expired_url", "used_url") else 400, text=error)
        return web.Response(text="ok")

    def _use_response_url(self, rid: str, args: dict[str, Any]) -> str | None:
        issued, left = self._response_urls.get(rid, (None, 0))
        if issued is None or time.monotonic() - issued > RESPONSE_URL_TTL:
            return "expired_url"
        if left <= 0:
            return "used_url"
        if not any(args.get(k) for k in ("text", "blocks", "attachments", "delete_original")):
            return "no_text"
        self._response_urls[rid] = (issued, left - 1)
        return None

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            args = await _read_args(request)
        except ValueError:
            args, body = {}, {"ok": False, "error": "invalid_json"}
        else:
            body = None
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else args.pop("token", None)
        args.pop("token", None)
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        status, headers = 200, {}
        if body is not None:
            pass
        elif not token:
            body = {"ok": False, "error": "not_authed"}
        elif token not in (self.bot_token, self.app_token):
            body = {"ok": False, "error": "invalid_auth"}
        elif token != expected:
            body = {"ok": False, "error": "not_allowed_token_type"}
        elif self._failures.get(method):
            failure = self._failures[method].pop(0)
            status, body = failure.status, {"ok": False, "error": failure.error}
            if failure.body is not None:
                await self._record(SlackCall(method, args, token, time.monotonic(), f"HTTP {status}"))
                return web.Response(status=status, text=failure.body, content_type=failure.content_type)
            if status == 429:
                headers["Retry-After"] = str(failure.retry_after)
        elif self.rate_limits is not None and (retry_after := self.rate_limits.check(method, args)):
            status, body = 429, {"ok": False, "error": "ratelimited"}
            headers["Retry-After"] = str(retry_after)
        else:
            handler = _HANDLERS.get(method)
            try:
                body = handler(self, args) if handler else {"ok": True}
            except Exception as exc:  # a bug in the fake or a malformed argument: visible in the call record
                status, body = 500, {"ok": False, "error": f"fake_slack_crashed: {exc!r}"}
        await self._record(SlackCall(method, args, token, time.monotonic(), None if body["ok"] else body["error"]))
        return web.json_response(body, status=status, headers=headers)


async def _read_args(request: web.Request) -> dict[str, Any]:
    """Query string + body (JSON, form or multipart); JSON-encoded form fields decoded. ValueError on bad JSON."""
    args: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            body = json.loads(await request.text() or "{}")
            args.update(body if isinstance(body, dict) else {})
        else:
            form = await request.post()
            args.update({k: v if isinstance(v, str) else getattr(v, "filename", "") for k, v in form.items()})
    for key in JSON_FIELDS:
        if isinstance(args.get(key), str) and args[key][:1] in ("[", "{"):
            try:
                args[key] = json.loads(args[key])
            except ValueError:
                pass
    if isinstance(args.get("payload"), str):  # response_url bodies and interactivity may be form payload=...
        try:
            args.update(json.loads(args.pop("payload")))
        except ValueError:
            pass
    return args


_HANDLERS: dict[str, Callable[[FakeSlack, dict], dict]] = {
    "auth.test": FakeSlack._auth_test,
    "apps.connections.open": lambda s, a: {"ok": True, "url": s._issue_ws_url()},
    "chat.postMessage": FakeSlack._post_message,
    "chat.update": FakeSlack._update,
    "chat.postEphemeral": FakeSlack._post_ephemeral,
    "reactions.add": lambda s, a: s._reaction(a, add=True),
    "reactions.remove": lambda s, a: s._reaction(a, add=False),
    **{m: (lambda s, a, m=m: s._views(a, m)) for m in ("views.publish", "views.open", "views.update", "views.push")},
    "assistant.threads.setStatus": FakeSlack._set_status,
    "users.info": FakeSlack._users_info,
    "conversations.info": FakeSlack._conversations_info,
    "conversations.join": FakeSlack._conversations_join,
    "conversations.replies": FakeSlack._replies,
    "conversations.history": FakeSlack._history,
    **{m: (lambda s, a, m=m: s._stream(a, m)) for m in ("chat.startStream", "chat.appendStream", "chat.stopStream")},
}
