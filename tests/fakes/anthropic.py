"""A fake Anthropic Messages API: a real aiohttp server on 127.0.0.1 answering POST /v1/messages with scripted replies.

    async with FakeAnthropic() as model:                 # app under test: ANTHROPIC_BASE_URL=model.url
        model.script(tool_calls(("grafana_get_alerts", {})), text("2 alerts are firing ..."))
        ...
        model.requests[1].tool_results()                 # what the agent sent back

The wire format is the real one (https://docs.anthropic.com/en/api/messages): the key in `x-api-key` (or
`Authorization: Bearer`, which anthropic 2.x sends), an `anthropic-version` header; a body with model, max_tokens,
system, messages, tools, tool_choice; a reply {id, type: "message", role, model, content: [text | tool_use],
stop_reason, stop_sequence, usage: {input_tokens, output_tokens}}; errors {"type": "error", "error": {type,
message}}. Requests are validated as the real API does where it matters to a tool loop: every tool_use of the
previous assistant turn must be answered by a tool_result in the next user turn, tool names must be valid and
unique, and with tool_choice {"type": "none"} no tool is called (tool_use blocks of a scripted reply are dropped).
Usage is deterministic: input_tokens = request bytes // 4, output_tokens = reply content bytes // 4.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

API_KEY = "sk-ant-test-fake-key-000000"
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")


@dataclass
class Reply:
    """One scripted model turn: content blocks (text / tool_use) and its stop reason."""

    content: list[dict[str, Any]]
    stop_reason: str = "end_turn"
    usage: dict[str, int] | None = None  # overrides the computed usage


def text(body: str) -> Reply:
    return Reply([{"type": "text", "text": body}], "end_turn")


def tool_calls(*calls: tuple[str, dict[str, Any]], say: str | None = None) -> Reply:
    """A turn that calls tools (several at once when given several), optionally with some text first."""
    blocks: list[dict[str, Any]] = [{"type": "text", "text": say}] if say else []
    blocks += [{"type": "tool_use", "name": name, "input": dict(args)} for name, args in calls]
    return Reply(blocks, "tool_use")


@dataclass
class ModelRequest:
    """A request the fake received (including rejected ones, with `status`)."""

    headers: dict[str, str]
    raw: bytes
    body: dict[str, Any]
    status: int = 200

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body.get("messages") or []

    @property
    def tool_names(self) -> list[str]:
        return [t.get("name", "") for t in self.body.get("tools") or []]

    def tool_results(self) -> list[dict[str, Any]]:
        """The tool_result blocks of the last user message."""
        last = self.messages[-1] if self.messages else {}
        content = last.get("content")
        return [b for b in content if b.get("type") == "tool_result"] if isinstance(content, list) else []

    def text(self) -> str:
        """Everything the model would read: system prompt, messages and tools, as one string."""
        return self.raw.decode("utf-8", "replace")


Script = Reply | Callable[[ModelRequest], Reply]


@dataclass
class _Failure:
    status: int
    error_type: str
    message: str
    times: int


@dataclass
class FakeAnthropic:
    api_key: str = API_KEY
    requests: list[ModelRequest] = field(default_factory=list)
    default: Script | None = None  # used when the script is empty; None -> a short text reply
    url: str = ""

    def __post_init__(self) -> None:
        self._queue: list[Script] = []
        self._failures: list[_Failure] = []
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeAnthropic:
        app = web.Application()
        app.router.add_post("/v1/messages", self._messages)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- knobs --------------------------------------------------------------------------------------------

    def script(self, *replies: Script) -> None:
        """Queue replies, used in order, one per request."""
        self._queue.extend(replies)

    def fail_next(self, status: int = 529, error_type: str = "overloaded_error", message: str = "Overloaded") -> None:
        self._failures.append(_Failure(status, error_type, message, 1))

    @property
    def answered(self) -> list[ModelRequest]:
        return [r for r in self.requests if r.status == 200]

    # -- HTTP ---------------------------------------------------------------------------------------------

    async def _messages(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        record = ModelRequest(dict(request.headers), raw, body if isinstance(body, dict) else {})
        self.requests.append(record)
        auth = request.headers.get("Authorization", "")
        key = request.headers.get("x-api-key") or (auth[7:] if auth.startswith("Bearer ") else None)
        if key != self.api_key:
            return self._error(record, 401, "authentication_error", "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return self._error(record, 400, "invalid_request_error", "anthropic-version header is required")
        if problem := validate(record.body):
            return self._error(record, 400, "invalid_request_error", problem)
        if self._failures:
            failure = self._failures.pop(0)
            return self._error(record, failure.status, failure.error_type, failure.message)
        step = self._queue.pop(0) if self._queue else (self.default or text("(fake model: nothing scripted)"))
        reply = step(record) if callable(step) else step
        return web.json_response(self._message(record, reply), headers={"request-id": f"req_{next(self._ids):08d}"})

    def _message(self, record: ModelRequest, reply: Reply) -> dict[str, Any]:
        content, stop = [dict(b) for b in reply.content], reply.stop_reason
        if (record.body.get("tool_choice") or {}).get("type") == "none" or not record.body.get("tools"):
            content = [b for b in content if b.get("type") != "tool_use"] or [
                {"type": "text", "text": "(fake model: no tools allowed on this turn)"}
            ]
            stop = "end_turn" if stop == "tool_use" else stop
        for block in content:
            if block.get("type") == "tool_use":
                block.setdefault("id", f"toolu_{next(self._ids):024d}")
            if block.get("type") == "text":
                block.setdefault("citations", None)
        usage = reply.usage or {
            "input_tokens": max(1, len(record.raw) // 4),
            "output_tokens": max(1, len(json.dumps(content)) // 4),
        }
        return {
            "id": f"msg_{next(self._ids):024d}",
            "type": "message",
            "role": "assistant",
            "model": record.body.get("model"),
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, **usage},
        }

    def _error(self, record: ModelRequest, status: int, kind: str, message: str) -> web.Response:
        record.status = status
        body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_fake"}
        return web.json_response(body, status=status)


def validate(body: dict[str, Any]) -> str | None:
    """What the real API would reject in a tool loop, as its message; None when the request is fine."""
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: Field required"
    if not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1:
        return "max_tokens: Field required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    names = [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
    if len(names) != len(set(names)):
        return "tools: Tool names must be unique."
    for i, tool in enumerate(body.get("tools") or []):
        if not _TOOL_NAME.match(str(tool.get("name", ""))):
            return f"tools.{i}.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'"
        if (tool.get("input_schema") or {}).get("type") != "object":
            return f"tools.{i}.input_schema.type: Input should be 'object'"
    choice = body.get("tool_choice")
    if choice is not None and choice.get("type") not in ("auto", "any", "tool", "none"):
        return "tool_choice.type: Input tag does not match any of the expected tags"
    if messages[0].get("role") != "user":
        return 'messages: first message must use the "user" role'
    for i, message in enumerate(messages):
        if message.get("role") not in ("user", "assistant"):
            return f"messages.{i}.role: Input should be 'user' or 'assistant'"
        content = message.get("content")
        if isinstance(content, str):
            if not content and i < len(messages) - 1:
                return f"messages.{i}: all messages must have non-empty content"
            continue
        if not isinstance(content, list) or not content:
            return f"messages.{i}: all messages must have non-empty content"
        uses = [b.get("id") for b in content if b.get("type") == "tool_use"]
        if message["role"] == "assistant" and uses:
            following = messages[i + 1] if i + 1 < len(messages) else None
            answered = {
                b.get("tool_use_id")
                for b in (following or {}).get("content") or []
                if isinstance(b, dict) and b.get("type") == "tool_result"
            }
            if following is None or not set(uses) <= answered:
                return (
                    f"messages.{i + 1}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                    + ", ".join(u for u in uses if u not in answered)
                )
        if message["role"] == "user":
            results = [b.get("tool_use_id") for b in content if b.get("type") == "tool_result"]
            before = messages[i - 1] if i else {}
            asked = {b.get("id") for b in before.get("content") or [] if isinstance(b, dict)}
            unknown = [r for r in results if r not in asked]
            if unknown:
                return f"messages.{i}.content: unexpected `tool_use_id` found in `tool_result` blocks: {unknown[0]}"
    return None
