"""A fake Anthropic Messages API: a real aiohttp server on 127.0.0.1 answering POST /v1/messages with scripted replies.

    async with FakeAnthropic() as model:                 # app under test: ANTHROPIC_BASE_URL=model.url
        model.script(tool_calls(("grafana_get_alerts", {})), text("2 alerts are firing ..."))
        ...
        model.requests[1].tool_results()                 # what the agent sent back
        model.script(careless)                           # a model that repeats the mentions and links it read

The wire format is the real one (https://platform.claude.com/docs/en/api/messages): the key in `x-api-key` (or
`Authorization: Bearer`, which anthropic 2.x sends), an `anthropic-version` header; a reply {id, type: "message",
role, model, content: [thinking | text | tool_use], stop_reason, stop_sequence, usage}; errors {"type": "error",
"error": {type, message}}. It behaves as the current API documents, so that the app is tested against it:
- models: only the ids of anthropic_models.MODELS exist (another answers 404 not_found_error); each refuses what
  its model page says it refuses (manual thinking budgets, sampling parameters, forced tool use, prefill);
- the tool loop's structure (anthropic_validate.py);
- thinking (anthropic_thinking.py): a model that thinks (Sonnet 5.5 does by default) spends `thinking_tokens`
  (at its default effort; `output_config.effort` scales it) before its text, signed, charged against
  `max_tokens`; a reply that runs out stops with "max_tokens", cut; a dropped or edited thinking block is
  refused. Asked to go on (the cut text handed back, then a user turn), the model writes the rest; asked the same
  request again after running out while thinking, it writes the whole reply;
- prompt caching (anthropic_cache.py): exact-prefix entries per model at each breakpoint, the 20-block lookback,
  the model's minimum cacheable length, 5-minute lifetime on `clock`; usage splits input_tokens,
  cache_creation_input_tokens and cache_read_input_tokens.
With `compatible=True` it is instead an Anthropic-compatible server (Ollama, vLLM, llama.cpp's server): any model
name, no thinking, no cache, usage with input_tokens and output_tokens only.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.anthropic_cache import PromptCache, blocks_of
from tests.fakes.anthropic_models import MODELS, ModelSpec, check_parameters, thinking_of
from tests.fakes.anthropic_thinking import Signer, Written, text_tokens, write
from tests.fakes.anthropic_validate import validate

__all__ = ["API_KEY", "FakeAnthropic", "ModelRequest", "Reply", "text", "tool_calls", "validate"]

API_KEY = "sk-ant-test-fake-key-000000"


@dataclass
class Reply:
    """One scripted model turn: content blocks (text / tool_use) and its stop reason."""

    content: list[dict[str, Any]]
    stop_reason: str = "end_turn"
    usage: dict[str, int] | None = None  # overrides the computed usage
    thinking_tokens: int | None = None  # exactly this much thinking; None: the fake's, at the request's effort


def text(body: str, *, thinking_tokens: int | None = None) -> Reply:
    return Reply([{"type": "text", "text": body}], "end_turn", thinking_tokens=thinking_tokens)


# What a prompt injection in a log line or a pull request wants repeated: Slack broadcasts and mentions, links whose
# label hides their target (Slack's <url|label>, Markdown's [label](url)), GitHub mentions.
HOSTILE = re.compile(
    r"<![^<>\s]*>|<@[^<>\s]*>|<https?://[^<>|\s]+\|[^<>]*>|!?\[[^\]\n]*\]\(https?://[^)\s]+\)"
    r"|(?<![\w/@.])@[A-Za-z0-9][\w-]*(?:/[\w.-]+)?"
)


def read_by_model(request: ModelRequest) -> str:
    """Everything the messages of a request hold (text, tool results), without the system prompt."""
    parts: list[str] = []
    for message in request.messages:
        content = message.get("content")
        blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
        for block in blocks:
            inner = block.get("content") if block.get("type") == "tool_result" else block.get("text")
            if isinstance(inner, list):
                parts += [str(b.get("text", "")) for b in inner if isinstance(b, dict)]
            elif inner is not None:
                parts.append(str(inner))
    return "\n".join(parts)


def careless(request: ModelRequest) -> Reply:
    """A careless model: it repeats every broadcast, mention and labelled link it read, in order, once each."""
    seen = dict.fromkeys(HOSTILE.findall(read_by_model(request)))
    return text("What the data says: " + " ".join(seen))


def tool_calls(*calls: tuple[str, dict[str, Any]], say: str | None = None) -> Reply:
    """A turn that calls tools (several at once when given several), optionally with some text first."""
    blocks: list[dict[str, Any]] = [{"type": "text", "text": say}] if say else []
    blocks += [{"type": "tool_use", "name": name, "input": dict(args)} for name, args in calls]
    return Reply(blocks, "tool_use")


@dataclass
class ModelRequest:
    """A request the fake received (including rejected ones, with `status`), and the reply it got."""

    headers: dict[str, str]
    raw: bytes
    body: dict[str, Any]
    status: int = 200
    path: str = "/v1/messages"
    reply: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body.get("messages") or []

    @property
    def system(self) -> str:
        """The system prompt's text, whether sent as a string or as text blocks."""
        system = self.body.get("system") or ""
        return system if isinstance(system, str) else "\n".join(str(b.get("text", "")) for b in system)

    @property
    def tool_names(self) -> list[str]:
        return [t.get("name", "") for t in self.body.get("tools") or []]

    @property
    def usage(self) -> dict[str, Any]:
        return dict(self.reply.get("usage") or {})

    def said(self, index: int) -> str:
        """The text of message `index`, sent as a string or as blocks (cache_control on them or not)."""
        content = self.messages[index].get("content")
        if isinstance(content, str):
            return content
        return "".join(str(b.get("text", "")) for b in content or [] if b.get("type") == "text")

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


@dataclass
class FakeAnthropic:
    api_key: str = API_KEY
    requests: list[ModelRequest] = field(default_factory=list)
    default: Script | None = None  # used when the script is empty; None -> a short text reply
    url: str = ""
    thinking_tokens: int = 1500  # what a thinking reply spends before its text, at the model's default effort
    compatible: bool = False  # an Anthropic-compatible server instead of Anthropic's API
    models: dict[str, ModelSpec] = field(default_factory=lambda: dict(MODELS))

    def __post_init__(self) -> None:
        self._queue: list[Script] = []
        self._failures: list[_Failure] = []
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._offset = 0.0
        self.cache = PromptCache(clock=lambda: time.monotonic() + self._offset)
        self.signer = Signer()
        self._cut_text: dict[str, Reply] = {}  # a reply cut in its text, by that text -> the rest of it
        self._cut_thinking: dict[str, Reply] = {}  # a reply cut while thinking, by its request -> the whole reply

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeAnthropic:
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/messages", self._messages)

    # -- knobs --------------------------------------------------------------------------------------------

    def script(self, *replies: Script) -> None:
        """Queue replies, used in order, one per request."""
        self._queue.extend(replies)

    def fail_next(self, status: int = 529, error_type: str = "overloaded_error", message: str = "Overloaded") -> None:
        self._failures.append(_Failure(status, error_type, message))

    def advance(self, seconds: float) -> None:
        """Move the prompt cache's clock on (entries live 5 minutes from their last use)."""
        self._offset += seconds

    @property
    def answered(self) -> list[ModelRequest]:
        return [r for r in self.requests if r.status == 200]

    # -- HTTP ---------------------------------------------------------------------------------------------

    def authorized(self, request: web.Request, record: ModelRequest) -> web.Response | None:
        """The Messages API's own authentication: the key and the anthropic-version header."""
        auth = request.headers.get("Authorization", "")
        key = request.headers.get("x-api-key") or (auth[7:] if auth.startswith("Bearer ") else None)
        if key != self.api_key:
            return self._error(record, 401, "authentication_error", "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return self._error(record, 400, "invalid_request_error", "anthropic-version header is required")
        return None

    async def _messages(self, request: web.Request) -> web.Response:
        record = await self.receive(request)
        return self.authorized(request, record) or self.answer(record)

    async def receive(self, request: web.Request, body_extra: dict[str, Any] | None = None) -> ModelRequest:
        raw = await request.read()
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        record = ModelRequest(dict(request.headers), raw, {**body, **(body_extra or {})}, path=request.path)
        self.requests.append(record)
        return record

    def answer(self, record: ModelRequest) -> web.Response:
        body = record.body
        if problem := validate(body):
            return self._error(record, 400, "invalid_request_error", problem)
        model = str(body["model"])
        spec = None if self.compatible else self.models.get(model)
        if spec is None and not self.compatible:
            return self._error(record, 404, "not_found_error", f"model: {model}")
        if spec is not None and (
            problem := check_parameters(spec, model, body) or self.signer.check(model, record.messages)
        ):
            return self._error(record, 400, "invalid_request_error", problem)
        if self._failures:
            failure = self._failures.pop(0)
            return self._error(record, failure.status, failure.error_type, failure.message)
        reply = self._next(record)
        message = self._message(record, reply, spec)
        record.reply = message
        return web.json_response(message, headers={"request-id": f"req_{next(self._ids):08d}"})

    def _next(self, record: ModelRequest) -> Reply:
        """A continuation the request asks for, else the next scripted reply."""
        messages = record.messages
        if len(messages) >= 2 and messages[-2].get("role") == "assistant":
            content = messages[-2].get("content")
            said = (
                content
                if isinstance(content, str)
                else "".join(
                    b.get("text", "") for b in content or [] if isinstance(b, dict) and b.get("type") == "text"
                )
            )
            if said in self._cut_text:
                return self._cut_text.pop(said)
        again = self._cut_thinking.pop(_request_key(record.body), None)
        if again is not None:
            return again
        step = self._queue.pop(0) if self._queue else (self.default or text("(fake model: nothing scripted)"))
        return step(record) if callable(step) else step

    def _message(self, record: ModelRequest, reply: Reply, spec: ModelSpec | None) -> dict[str, Any]:
        body, reply_id = record.body, f"msg_{next(self._ids):024d}"
        blocks, stop = [dict(b) for b in reply.content], reply.stop_reason
        if (body.get("tool_choice") or {}).get("type") == "none" or not body.get("tools"):
            blocks = [b for b in blocks if b.get("type") != "tool_use"] or [
                {"type": "text", "text": "(fake model: no tools allowed on this turn)"}
            ]
            stop = "end_turn" if stop == "tool_use" else stop
        for block in blocks:
            if block.get("type") == "tool_use":
                block.setdefault("id", f"toolu_{next(self._ids):024d}")
            if block.get("type") == "text":
                block.setdefault("citations", None)
        model = str(body.get("model"))
        sealed, spent = None, 0
        if spec is not None and (how := thinking_of(spec, body)).on:
            scripted = reply.thinking_tokens
            spent = round(self.thinking_tokens * how.share) if scripted is None else scripted
            if spent:
                sealed = self.signer.block(model, reply_id, "", spent)
        written = write(blocks, stop, max_tokens=int(body["max_tokens"]), thinking=sealed, thinking_tokens=spent)
        self._remember(record, reply, written)
        if sealed is not None:
            for block in written.content:
                if block.get("type") == "tool_use":
                    self.signer.before_tools[block["id"]] = sealed["signature"]
        return {
            "id": reply_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": written.content,
            "stop_reason": written.stop_reason,
            "stop_sequence": None,
            "usage": self._usage(record, reply, written, spec),
        }

    def _remember(self, record: ModelRequest, reply: Reply, written: Written) -> None:
        """What the model would write when asked to go on after running out."""
        if written.stop_reason != "max_tokens":
            return
        if written.cut_text:
            self._cut_text[written.cut_text] = Reply(written.rest, reply.stop_reason, thinking_tokens=0)
        else:
            self._cut_thinking[_request_key(record.body)] = reply

    def _usage(self, record: ModelRequest, reply: Reply, written: Written, spec: ModelSpec | None) -> dict[str, Any]:
        if reply.usage is not None:
            return {"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, **reply.usage}
        body = record.body
        blocks = blocks_of(body, self.signer.tokens)
        if spec is None:  # a compatible server: no cache accounting, no cache fields
            return {"input_tokens": sum(b.tokens for b in blocks), "output_tokens": written.output_tokens}
        accounted = self.cache.account(str(body["model"]), blocks, spec.cache_min_tokens)
        return {**accounted.usage(), "output_tokens": written.output_tokens}

    def _error(self, record: ModelRequest, status: int, kind: str, message: str) -> web.Response:
        record.status, record.error = status, message
        body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_fake"}
        return web.json_response(body, status=status)


def _request_key(body: dict[str, Any]) -> str:
    """A request apart from its max_tokens: the same request asked again with more room."""
    return json.dumps({k: v for k, v in body.items() if k != "max_tokens"}, sort_keys=True)


def output_tokens_of(reply: Reply) -> int:
    """The output tokens the text of `reply` costs (its thinking aside)."""
    return sum(text_tokens(b.get("text", "")) for b in reply.content if b.get("type") == "text")
