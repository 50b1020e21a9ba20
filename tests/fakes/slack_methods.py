"""The fake Slack's Web API methods: chat, reactions, views, users, conversations and streaming."""

from __future__ import annotations

import itertools
import time
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .slack_checks import block_errors, view_errors


class WebApiMixin:
    """Mixed into ``FakeSlack`` (tests/fakes/slack.py), which supplies the state below, ``issue_ts()``,
    ``thread()``, ``_store_message()`` and ``_find_message()``."""

    team_id: str
    app_id: str
    bot_user_id: str
    bot_id: str
    trigger_ttl: float
    users: dict[str, dict]
    channels: dict[str, dict]
    views: dict[str, dict]
    home_views: dict[str, dict]
    reactions: dict[tuple[str, str], set[str]]
    _triggers: dict[str, float | None]
    _seq: itertools.count[int]

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
        """Why the bot may not post in `channel`, as Slack says it: a private channel it is not in is invisible."""
        if not channel:
            return "channel_not_found"
        info = self.channels.get(channel, {})
        if info.get("is_member") is False and info.get("is_private"):
            return "channel_not_found"
        if info.get("is_archived"):
            return "is_archived"
        if info.get("is_member") is False:
            return "not_in_channel"
        return None

    def _channel(self, channel: str) -> dict | None:
        """conversations.info's channel object; None when the bot cannot see the channel."""
        if channel not in self.channels and not (channel[:1] in "CGD" and channel[1:].isalnum()):
            return None
        overrides = self.channels.get(channel, {})
        if overrides.get("is_private") and overrides.get("is_member") is False:
            return None
        info = {"id": channel, "name": channel.lower(), "is_channel": channel.startswith("C"), "is_member": True}
        info.update(is_private=channel.startswith("G"), is_im=channel.startswith("D"), is_archived=False)
        return {**info, **overrides}

    def _post_message(self, args: dict) -> dict:
        channel = args.get("channel")
        if error := self._channel_error(channel):
            return _err(error)
        blocks = args.get("blocks")
        if not any(args.get(k) for k in ("text", "blocks", "attachments", "markdown_text")):
            return _err("no_text")
        if len(args.get("text") or "") > 40000:
            return _err("msg_too_long")
        if blocks is not None and (problems := block_errors(blocks, "/blocks", limit=50)):
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
        if (blocks := args.get("blocks")) is not None and (problems := block_errors(blocks, "/blocks", limit=50)):
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
        if blocks is not None and (problems := block_errors(blocks, "/blocks", limit=50)):
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
        if not isinstance(view, dict) or (problems := view_errors(view)):
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
        info = self._channel(args.get("channel", ""))
        return {"ok": True, "channel": info} if info is not None else _err("channel_not_found")

    def _conversations_join(self, args: dict) -> dict:
        """Public channels only (channels:join); a private one answers method_not_supported_for_channel_type."""
        channel = args.get("channel", "")
        info = self._channel(channel)
        if info is None:
            return _err("channel_not_found")
        if info.get("is_archived"):
            return _err("is_archived")
        if info.get("is_private") or info.get("is_im"):
            return _err("method_not_supported_for_channel_type")
        already = info.get("is_member") is True
        self.channels.setdefault(channel, {})["is_member"] = True
        body: dict[str, Any] = {"ok": True, "channel": {**info, "is_member": True}}
        if already:
            body.update(warning="already_in_channel", response_metadata={"warnings": ["already_in_channel"]})
        return body

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
