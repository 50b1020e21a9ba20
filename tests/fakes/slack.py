"""A local Slack: Web API, Socket Mode websocket and response_url on 127.0.0.1, speaking Slack's wire format.

    async with FakeSlack() as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        ...                                  # app under test: SLACK_API_URL=slack.api_url
        await slack.wait_connected()
        env = await slack.send_event(slack.message_event("how is prod?"))
        await slack.wait_ack(env)
        call = await slack.wait_for_call("chat.postMessage")

Every Web API call is recorded as a SlackCall (failed ones too, with ``error`` set). Times are
``time.monotonic()`` seconds. The Socket Mode half lives in slack_socket.py.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from .slack_socket import SocketModeMixin

JSON_FIELDS = ("blocks", "attachments", "view", "metadata", "unfurls", "chunks")  # JSON strings in form bodies


@dataclass
class SlackCall:
    method: str  # "chat.postMessage", or "response_url" for a POST to a response_url
    args: dict[str, Any]  # query + body; JSON-encoded form fields (blocks, view, ...) decoded
    token: str | None
    at: float  # time.monotonic()
    error: str | None = None  # the error the fake answered with; None when it answered ok


class FakeSlack(SocketModeMixin):
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
    ) -> None:
        self.bot_token, self.app_token = bot_token, app_token
        self.team_id, self.app_id, self.bot_user_id, self.bot_id = team_id, app_id, bot_user_id, bot_id
        self.users: dict[str, dict] = {bot_user_id: {"name": "sitrep", "is_bot": True}, "U123": {"name": "alice"}}
        self.users.update(users or {})  # id -> overrides of the users.info user (is_admin, is_owner, name, tz, ...)
        self.channels: dict[str, dict] = dict(channels or {})  # id -> overrides; is_member/is_archived False/True
        self.trigger_ttl = trigger_ttl
        self.calls: list[SlackCall] = []
        self.messages: dict[str, list[dict]] = {}  # channel -> messages posted or received, in ts order
        self.views: dict[str, dict] = {}  # view id -> view as returned
        self.home_views: dict[str, dict] = {}  # user id -> published Home tab view
        self.reactions: dict[tuple[str, str], set[str]] = {}  # (channel, ts) -> reaction names
        self.base_url = ""
        self._triggers: dict[str, float | None] = {}  # trigger_id -> issued at (None once exchanged)
        self._failures: dict[str, list[tuple[str, int, int]]] = {}
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
        return f"{self.base_url}/response/{uuid.uuid4().hex}"

    # -- test helpers -------------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[SlackCall]:
        return [c for c in self.calls if c.method == method]

    def fail_next(
        self, method: str, error: str = "ratelimited", status: int = 429, retry_after: int = 1, *, times: int = 1
    ) -> None:
        """The next ``times`` calls of ``method`` fail: HTTP 429 with Retry-After, or {"ok": false, "error"}."""
        self._failures.setdefault(method, []).extend([(error, status, retry_after)] * times)

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
        args = await _read_args(request)
        args["_response_id"] = request.match_info["rid"]
        await self._record(SlackCall("response_url", args, None, time.monotonic()))
        return web.json_response({"ok": True})

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
            error, status, retry_after = self._failures[method].pop(0)
            body = {"ok": False, "error": error}
            if status == 429:
                headers["Retry-After"] = str(retry_after)
        else:
            handler = _HANDLERS.get(method)
            try:
                body = handler(self, args) if handler else {"ok": True}
            except Exception as exc:  # a bug in the fake or a malformed argument: visible in the call record
                status, body = 500, {"ok": False, "error": f"fake_slack_crashed: {exc!r}"}
        await self._record(SlackCall(method, args, token, time.monotonic(), None if body["ok"] else body["error"]))
        return web.json_response(body, status=status, headers=headers)

    # -- Web API methods ----------------------------------------------------------------------------

    def _auth_test(self, args: dict) -> dict:
        return {
            "ok": True,
            "url": "https://fake-team.slack.com/",
            "team": "Fake Team",
            "user": self.users[self.bot_user_id].get("name", "sitrep"),
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _channel_error(self, channel: str | None) -> str | None:
        if not channel:
            return "channel_not_found"
        info = self.channels.get(channel, {})
        if info.get("is_archived"):
            return "is_archived"
        if info.get("is_member") is False:
            return "not_in_channel"
        return None

    def _post_message(self, args: dict) -> dict:
        channel = args.get("channel")
        if error := self._channel_error(channel):
            return _err(error)
        blocks = args.get("blocks")
        if not any(args.get(k) for k in ("text", "blocks", "attachments", "markdown_text")):
            return _err("no_text")
        if len(args.get("text") or "") > 40000:
            return _err("msg_too_long")
        if blocks is not None and (problems := _block_errors(blocks, "/blocks", limit=50)):
            return _err("invalid_blocks", problems)
        message = {"type": "message", "user": self.bot_user_id, "bot_id": self.bot_id, "app_id": self.app_id}
        message.update(text=args.get("text") or args.get("markdown_text") or "", ts=self.issue_ts(), team=self.team_id)
        message.update({k: args[k] for k in ("blocks", "attachments", "thread_ts", "metadata") if args.get(k)})
        self._store_message(channel, message)  # type: ignore[arg-type]
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def _update(self, args: dict) -> dict:
        message = self._find_message(args.get("channel", ""), args.get("ts", ""))
        if message is None:
            return _err("message_not_found")
        if (blocks := args.get("blocks")) is not None and (problems := _block_errors(blocks, "/blocks", limit=50)):
            return _err("invalid_blocks", problems)
        message.update({k: args[k] for k in ("text", "blocks", "attachments", "metadata") if k in args})
        message["edited"] = {"user": self.bot_user_id, "ts": self.issue_ts()}
        return {"ok": True, "channel": args["channel"], "ts": args["ts"], "text": message["text"], "message": message}

    def _post_ephemeral(self, args: dict) -> dict:
        if error := self._channel_error(args.get("channel")):
            return _err(error)
        if not args.get("user"):
            return _err("user_not_found")
        blocks = args.get("blocks")
        if blocks is not None and (problems := _block_errors(blocks, "/blocks", limit=50)):
            return _err("invalid_blocks", problems)
        return {"ok": True, "message_ts": self.issue_ts()}

    def _reaction(self, args: dict, add: bool) -> dict:
        names = self.reactions.setdefault((args.get("channel", ""), args.get("timestamp", "")), set())
        name = args.get("name", "")
        if add and name in names:
            return _err("already_reacted")
        if not add and name not in names:
            return _err("no_reaction")
        (names.add if add else names.discard)(name)
        return {"ok": True}

    def _check_trigger(self, trigger_id: str | None) -> str | None:
        if not trigger_id or trigger_id not in self._triggers:
            return "invalid_trigger_id"
        issued = self._triggers[trigger_id]
        if issued is None:
            return "exchanged_trigger_id"
        if time.monotonic() - issued > self.trigger_ttl:
            return "expired_trigger_id"
        self._triggers[trigger_id] = None
        return None

    def _store_view(self, view: dict, *, view_id: str | None = None, root_id: str | None = None) -> dict:
        view_id = view_id or f"V{next(self._seq):09d}"
        stored = {
            "id": view_id,
            "team_id": self.team_id,
            "state": {"values": {}},
            "hash": f"{time.time():.6f}.{uuid.uuid4().hex[:8]}",
            "clear_on_close": False,
            "notify_on_close": False,
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            **view,
            "root_view_id": root_id or view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
        }
        self.views[view_id] = stored
        return {"ok": True, "view": stored}

    def _views(self, args: dict, method: str) -> dict:
        view = args.get("view")
        if not isinstance(view, dict) or (problems := _view_errors(view)):
            return _err("invalid_arguments", problems if isinstance(view, dict) else ["[ERROR] missing view"])
        if (view.get("type") == "home") != (method == "views.publish") and method != "views.update":
            return _err("invalid_arguments", ["[ERROR] views.publish takes a home view, modals the others"])
        if method == "views.publish":
            if not args.get("user_id"):
                return _err("invalid_arguments", ["[ERROR] missing required field: user_id"])
            response = self._store_view(view)
            self.home_views[args["user_id"]] = response["view"]
            return response
        if method in ("views.open", "views.push"):
            if error := self._check_trigger(args.get("trigger_id")):
                return _err(error)
            return self._store_view(view)
        old = self.views.get(args.get("view_id", "")) or next(
            (v for v in self.views.values() if args.get("external_id") and v["external_id"] == args["external_id"]),
            None,
        )
        if old is None:
            return _err("not_found")
        if args.get("hash") and args["hash"] != old["hash"]:
            return _err("hash_conflict")
        return self._store_view(view, view_id=old["id"], root_id=old["root_view_id"])

    def _set_status(self, args: dict) -> dict:
        if not args.get("channel_id") or not args.get("thread_ts") or "status" not in args:
            return _err("invalid_arguments", ["[ERROR] channel_id, thread_ts and status are required"])
        return {"ok": True}

    def _users_info(self, args: dict) -> dict:
        user_id = args.get("user", "")
        if user_id not in self.users:
            return _err("user_not_found")
        extra = self.users[user_id]
        name, tz = extra.get("name", user_id.lower()), extra.get("tz", "America/Los_Angeles")
        offset = datetime.now(ZoneInfo(tz)).utcoffset()
        user = {"id": user_id, "team_id": self.team_id, "name": name, "real_name": name.title(), "tz": tz}
        user.update(tz_label=tz, tz_offset=int(offset.total_seconds()) if offset else 0, deleted=False, is_bot=False)
        user.update(is_admin=False, is_owner=False, is_primary_owner=False, is_restricted=False)
        user["profile"] = {"real_name": name.title(), "display_name": name}
        return {"ok": True, "user": {**user, **extra}}

    def _conversations_info(self, args: dict) -> dict:
        channel = args.get("channel", "")
        if channel not in self.channels and not (channel[:1] in "CGD" and channel[1:].isalnum()):
            return _err("channel_not_found")
        info = {"id": channel, "name": channel.lower(), "is_channel": channel.startswith("C"), "is_member": True}
        info.update(is_private=channel.startswith("G"), is_im=channel.startswith("D"), is_archived=False)
        return {"ok": True, "channel": {**info, **self.channels.get(channel, {})}}

    def _replies(self, args: dict) -> dict:
        messages = self.thread(args.get("channel", ""), args.get("ts", ""))
        if not messages:
            return _err("thread_not_found")
        return {"ok": True, "messages": messages, "has_more": False, "response_metadata": {"next_cursor": ""}}

    def _history(self, args: dict) -> dict:
        top = [m for m in self.messages.get(args.get("channel", ""), []) if m.get("thread_ts") in (None, m["ts"])]
        return {"ok": True, "messages": top[::-1], "has_more": False, "response_metadata": {"next_cursor": ""}}

    def _stream(self, args: dict, method: str) -> dict:
        channel = args.get("channel", "")
        text = args.get("markdown_text") or ""
        if method == "chat.startStream":
            if not args.get("thread_ts"):
                return _err("invalid_arguments", ["[ERROR] missing required field: thread_ts"])
            if not channel.startswith("D") and not (args.get("recipient_user_id") and args.get("recipient_team_id")):
                return _err("invalid_arguments", ["[ERROR] recipient_user_id and recipient_team_id are required"])
            if error := self._channel_error(channel):
                return _err(error)
            message = {"type": "message", "user": self.bot_user_id, "bot_id": self.bot_id, "text": text}
            message.update(ts=self.issue_ts(), thread_ts=args["thread_ts"], streaming=True)
            self._store_message(channel, message)
            return {"ok": True, "channel": channel, "ts": message["ts"]}
        message = self._find_message(channel, args.get("ts", ""))
        if message is None:
            return _err("message_not_found")
        if not message.get("streaming"):
            return _err("message_not_in_streaming_state")
        if len(message["text"] + text) > 12000:
            return _err("msg_too_long")
        message["text"] += text
        if method == "chat.appendStream":
            return {"ok": True, "channel": channel, "ts": message["ts"]}
        message["streaming"] = False
        message.update({k: args[k] for k in ("blocks", "metadata") if args.get(k)})
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}


def _err(error: str, messages: list[str] | None = None) -> dict:
    body: dict[str, Any] = {"ok": False, "error": error}
    if messages:
        body["response_metadata"] = {"messages": messages}
    return body


def _text(obj: Any) -> str:
    return obj.get("text", "") if isinstance(obj, dict) else ""


def _block_errors(blocks: Any, pointer: str, limit: int) -> list[str]:
    """The cheap Block Kit limits Slack enforces, as Slack words them in response_metadata.messages."""
    if not isinstance(blocks, list):
        return [f"[ERROR] must be an array [json-pointer:{pointer}]"]
    problems = [f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}]"] if len(blocks) > limit else []
    for i, block in enumerate(blocks):
        where = f"[json-pointer:{pointer}/{i}"
        if not isinstance(block, dict) or not block.get("type"):
            problems.append(f"[ERROR] missing required field: type {where}]")
            continue
        text, fields = _text(block.get("text")), block.get("fields") or []
        if block["type"] == "section":
            if len(text) > 3000:
                problems.append(f"[ERROR] must be less than 3001 characters {where}/text/text]")
            if len(fields) > 10:
                problems.append(f"[ERROR] no more than 10 items allowed {where}/fields]")
            problems += [
                f"[ERROR] must be less than 2001 characters {where}/fields/{j}/text]"
                for j, f in enumerate(fields)
                if len(_text(f)) > 2000
            ]
            if not text and not fields:
                problems.append(f"[ERROR] must provide either text or fields {where}]")
        elif block["type"] == "header" and len(text) > 150:
            problems.append(f"[ERROR] must be less than 151 characters {where}/text/text]")
    return problems


def _view_errors(view: dict) -> list[str]:
    problems = _block_errors(view.get("blocks", []), "/view/blocks", limit=100)
    if view.get("type") not in ("modal", "home"):
        problems.append("[ERROR] must be one of modal, home [json-pointer:/view/type]")
    if len(view.get("private_metadata") or "") > 3000:
        problems.append("[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]")
    if view.get("type") == "modal":
        if not _text(view.get("title")):
            problems.append("[ERROR] missing required field: title [json-pointer:/view/title]")
        problems += [
            f"[ERROR] must be less than 25 characters [json-pointer:/view/{key}/text]"
            for key in ("title", "submit", "close")
            if len(_text(view.get(key))) > 24
        ]
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
        if has_input and not view.get("submit"):
            problems.append("[ERROR] must provide a submit property when using input blocks [json-pointer:/view]")
    return problems


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
    "conversations.replies": FakeSlack._replies,
    "conversations.history": FakeSlack._history,
    **{m: (lambda s, a, m=m: s._stream(a, m)) for m in ("chat.startStream", "chat.appendStream", "chat.stopStream")},
}
