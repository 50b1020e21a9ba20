"""Socket Mode half of the fake Slack: the /link/ websocket, envelopes, acks and payload builders.

Mixed into ``FakeSlack`` (tests/fakes/slack.py), which supplies the identity attributes
(team_id, app_id, bot_user_id, base_url), ``issue_ts()``, ``new_trigger_id()``,
``new_response_url()`` and ``_store_message()``.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

from aiohttp import WSMsgType, web


class SocketModeMixin:
    team_id: str
    app_id: str
    bot_user_id: str
    base_url: str

    def _socket_init(self) -> None:
        self.connections: list[web.WebSocketResponse] = []  # open websockets, oldest first
        self.connection_count = 0  # websockets accepted so far (reconnects included)
        self.envelopes: dict[str, dict] = {}  # envelope_id -> envelope pushed
        self.acks: dict[str, dict] = {}  # envelope_id -> first ack frame the app sent
        self.ack_latency: dict[str, float] = {}  # envelope_id -> seconds from push to ack
        self.frames: list[Any] = []  # every text frame the app sent (parsed JSON, or the raw str)
        self._tickets: set[str] = set()
        self._conn_cond = asyncio.Condition()
        self._ack_futures: dict[str, asyncio.Future[dict]] = {}
        self.sent_at: dict[str, float] = {}  # envelope_id -> time.monotonic() when pushed
        # Cleared by a test, every websocket upgrade waits until it is set again: a Slack slow to take the connection
        # (the app has its wss:// URL from apps.connections.open, but no websocket yet).
        self.accepting = asyncio.Event()
        self.accepting.set()

    # -- connection ---------------------------------------------------------------------------------

    def _issue_ws_url(self) -> str:
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        return f"{self.base_url.replace('http://', 'ws://')}/link/?ticket={ticket}&app_id={self.app_id}"

    async def _handle_link(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:  # tickets come from apps.connections.open and are single-use
            return web.json_response({"ok": False, "error": "invalid_ticket"}, status=401)
        self._tickets.discard(ticket)
        await self.accepting.wait()
        ws = web.WebSocketResponse(autoping=True, timeout=2.0)
        await ws.prepare(request)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self.connections) + 1,
                "debug_info": {"host": "applink-fake", "build_number": 1, "approximate_connection_time": 18060},
                "connection_info": {"app_id": self.app_id},
            }
        )
        async with self._conn_cond:
            self.connections.append(ws)
            self.connection_count += 1
            self._conn_cond.notify_all()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_frame(msg.data)
        finally:
            async with self._conn_cond:
                self.connections.remove(ws)
                self._conn_cond.notify_all()
        return ws

    def _on_frame(self, data: str) -> None:
        try:
            frame = json.loads(data)
        except ValueError:
            self.frames.append(data)
            return
        self.frames.append(frame)
        envelope_id = frame.get("envelope_id") if isinstance(frame, dict) else None
        future = self._ack_futures.get(envelope_id) if isinstance(envelope_id, str) else None
        if future is None or future.done():
            return  # unknown envelope or a second ack: visible in self.frames only
        self.acks[envelope_id] = frame
        self.ack_latency[envelope_id] = time.monotonic() - self.sent_at[envelope_id]
        future.set_result(frame)

    async def wait_connected(self, timeout: float = 5.0, *, count: int = 1) -> None:
        """Wait until a websocket is open and at least ``count`` were accepted in total (count=2: a reconnect)."""
        try:
            async with asyncio.timeout(timeout), self._conn_cond:
                await self._conn_cond.wait_for(lambda: bool(self.connections) and self.connection_count >= count)
        except TimeoutError:
            raise TimeoutError(
                f"no Socket Mode connection #{count} within {timeout}s "
                f"(accepted {self.connection_count}, open {len(self.connections)})"
            ) from None

    def _current_ws(self, connection: int | None = None) -> web.WebSocketResponse:
        """The newest open websocket, or with `connection` the open one at that index (oldest first): Slack
        hands each envelope to one of an app's connections, and a retry may go to another."""
        open_ws = [ws for ws in self.connections if not ws.closed]
        if not open_ws:
            raise RuntimeError("no open Socket Mode connection: await slack.wait_connected() first")
        return open_ws[-1] if connection is None else open_ws[connection % len(open_ws)]

    async def drop_connections(self, code: int = 1011) -> None:
        """Close every open websocket from the server side (what a Slack-side drop looks like to the app)."""
        for ws in list(self.connections):
            await ws.close(code=code, message=b"fake slack dropped the connection")

    # -- pushing ------------------------------------------------------------------------------------

    async def send_envelope(
        self,
        type: str,
        payload: dict,
        *,
        envelope_id: str | None = None,
        accepts_response_payload: bool = False,
        retry_attempt: int = 0,
        retry_reason: str = "",
        connection: int | None = None,
    ) -> str:
        ws = self._current_ws(connection)
        envelope_id = envelope_id or str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": retry_attempt,
            "retry_reason": retry_reason,
        }
        self.envelopes[envelope_id] = envelope
        self.acks.pop(envelope_id, None)
        self._ack_futures[envelope_id] = asyncio.get_running_loop().create_future()
        self.sent_at[envelope_id] = time.monotonic()
        await ws.send_str(json.dumps(envelope))
        return envelope_id

    async def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> dict:
        """The ack frame ({"envelope_id", "payload"?}) the app sent for this envelope."""
        future = self._ack_futures.get(envelope_id)
        if future is None:
            raise KeyError(f"envelope {envelope_id!r} was never sent")
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(future)
        except TimeoutError:
            raise TimeoutError(f"no ack for envelope {envelope_id} within {timeout}s") from None

    async def send_raw(self, text: str) -> None:
        await self._current_ws().send_str(text)

    async def send_disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the app to reconnect, as Slack does before it recycles a connection."""
        await self._current_ws().send_json(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}}
        )

    # -- payload builders ---------------------------------------------------------------------------

    def event_envelope(self, event: dict, *, event_id: str | None = None, team_id: str | None = None) -> dict:
        """An Events API ``event_callback`` payload wrapping ``event``."""
        team_id = team_id or self.team_id
        return {
            "token": "fake-verification-token",
            "team_id": team_id,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{uuid.uuid4().hex}",
        }

    def message_event(
        self,
        text: str,
        *,
        user: str = "U123",
        channel: str = "C123",
        thread_ts: str | None = None,
        mention: bool = True,
    ) -> dict:
        """A user's message: an ``app_mention`` event (text starts with <@bot>) or, with mention=False, ``message``."""
        ts = self.issue_ts()  # type: ignore[attr-defined]
        event: dict[str, Any] = {
            "type": "app_mention" if mention else "message",
            "user": user,
            "text": f"<@{self.bot_user_id}> {text}" if mention else text,
            "ts": ts,
            "event_ts": ts,
            "channel": channel,
            "team": self.team_id,
            "client_msg_id": str(uuid.uuid4()),
        }
        if not mention:
            event["channel_type"] = "im" if channel.startswith("D") else "channel"
        if thread_ts:
            event["thread_ts"] = thread_ts
        return event

    async def send_event(
        self,
        event: dict,
        *,
        event_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        connection: int | None = None,
    ) -> str:
        """Push an ``events_api`` envelope. Message-like events are also stored for conversations.replies."""
        event = dict(event)
        if event.get("type") in ("message", "app_mention") and event.get("channel"):
            event.setdefault("ts", self.issue_ts())  # type: ignore[attr-defined]
            event.setdefault("event_ts", event["ts"])
            self._store_message(event["channel"], event)  # type: ignore[attr-defined]
        return await self.send_envelope(
            "events_api",
            self.event_envelope(event, event_id=event_id),
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
            connection=connection,
        )

    async def send_slash_command(
        self,
        command: str,
        text: str = "",
        user_id: str = "U123",
        channel_id: str = "C123",
        *,
        user_name: str = "alice",
        channel_name: str = "general",
        trigger_id: str | None = None,
        envelope_id: str | None = None,
    ) -> str:
        payload = {
            "token": "fake-verification-token",
            "team_id": self.team_id,
            "team_domain": "fake-team",
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": self.app_id,
            "is_enterprise_install": "false",
            "response_url": self.new_response_url(),  # type: ignore[attr-defined]
            "trigger_id": trigger_id or self.new_trigger_id(),  # type: ignore[attr-defined]
        }
        if trigger_id:
            self.new_trigger_id(trigger_id)  # type: ignore[attr-defined]
        return await self.send_envelope(
            "slash_commands", payload, envelope_id=envelope_id, accepts_response_payload=True
        )

    async def send_interactive(self, payload: dict, *, envelope_id: str | None = None) -> str:
        """Push an ``interactive`` envelope (block_actions, shortcut, message_action, view_submission, ...).

        Missing team, user, api_app_id, token and trigger_id are filled in; any trigger_id in the payload
        becomes valid for views.open/views.push; block_actions on a message and message_action get a
        response_url pointing at the fake.
        """
        payload = dict(payload)
        payload.setdefault("team", {"id": self.team_id, "domain": "fake-team"})
        payload.setdefault("user", {"id": "U123", "username": "alice", "name": "alice", "team_id": self.team_id})
        payload.setdefault("api_app_id", self.app_id)
        payload.setdefault("token", "fake-verification-token")
        payload.setdefault("is_enterprise_install", False)
        payload.setdefault("enterprise", None)
        if payload.get("type") in ("block_actions", "shortcut", "message_action", "view_submission"):
            payload["trigger_id"] = self.new_trigger_id(payload.get("trigger_id"))  # type: ignore[attr-defined]
        if payload.get("type") == "message_action" or (payload.get("type") == "block_actions" and "message" in payload):
            payload.setdefault("response_url", self.new_response_url())  # type: ignore[attr-defined]
        return await self.send_envelope("interactive", payload, envelope_id=envelope_id, accepts_response_payload=True)
