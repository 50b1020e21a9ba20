"""The Claude tool-use loop: at most MAX_TURNS model turns; the tools of each turn run concurrently."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import metrics
from agent.toolbox import Toolbox, ToolCall, ToolOutcome
from storage.conversations import Usage

if TYPE_CHECKING:
    import anthropic
    from anthropic import AsyncAnthropic

log = logging.getLogger(__name__)

MAX_TURNS = 8
MAX_TOKENS = 2048


class ModelError(Exception):
    """Claude could not be asked: one line saying what failed and what to do."""


@dataclass
class LoopResult:
    text: str
    model: str
    stop_reason: str  # end_turn | max_tokens | refusal | max_turns | ...
    turns: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    outcomes: list[ToolOutcome] = field(default_factory=list)

    def usage(self) -> Usage:
        return Usage(model=self.model, tokens_in=self.tokens_in, tokens_out=self.tokens_out, model_turns=self.turns)


async def run_loop(
    client: AsyncAnthropic,
    *,
    model: str,
    system: str,
    messages: list[dict[str, Any]],
    toolbox: Toolbox,
    max_turns: int = MAX_TURNS,
    max_tokens: int = MAX_TOKENS,
) -> LoopResult:
    """Ask, run the tools the model asks for, answer with their results, until it concludes or the cap is hit.

    On the last allowed turn tools stay declared (the history holds tool blocks) but tool_choice is none, so
    the model has to conclude. Raises ModelError when the API fails.
    """
    tools = toolbox.specs()
    result = LoopResult(text="", model=model, stop_reason="")
    for turn in range(1, max_turns + 1):
        request: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "system": system, "messages": messages}
        if tools:
            request["tools"] = tools
            if turn == max_turns:
                request["tool_choice"] = {"type": "none"}
        reply = await _create(client, request)
        result.turns = turn
        result.model = reply.model or model
        usage = reply.usage
        result.tokens_in += usage.input_tokens + (usage.cache_creation_input_tokens or 0)
        result.tokens_in += usage.cache_read_input_tokens or 0
        result.tokens_out += usage.output_tokens
        metrics.count_tokens(
            usage.input_tokens + (usage.cache_creation_input_tokens or 0) + (usage.cache_read_input_tokens or 0),
            usage.output_tokens,
        )
        text = toolbox.redact("".join(b.text for b in reply.content if b.type == "text")).strip()
        uses = [b for b in reply.content if b.type == "tool_use"]
        result.stop_reason = reply.stop_reason or "end_turn"
        if reply.stop_reason != "tool_use" or not uses:
            result.text = text
            break
        if turn == max_turns:  # asked for tools although it may not: stop here
            result.stop_reason = "max_turns"
            result.text = text
            break
        messages.append({"role": "assistant", "content": [p for b in reply.content if (p := _param(b, toolbox))]})
        calls = [ToolCall(b.name, b.input if isinstance(b.input, dict) else {}, b.id) for b in uses]
        outcomes = await toolbox.run(calls)
        result.outcomes += outcomes
        messages.append({"role": "user", "content": [_tool_result(o) for o in outcomes]})
    return result


def _param(block: Any, toolbox: Toolbox) -> dict[str, Any] | None:
    """A reply block as it goes back to the API: only the fields it needs, redacted; None to leave it out."""
    if block.type == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": toolbox.redact_data(block.input)}
    if block.type == "text":
        return {"type": "text", "text": toolbox.redact(block.text)} if block.text.strip() else None
    return block.model_dump(exclude_none=True)


def _tool_result(outcome: ToolOutcome) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": outcome.call.id, "content": outcome.content}
    if not outcome.ok:
        block["is_error"] = True
    return block


async def _create(client: AsyncAnthropic, request: dict[str, Any]) -> Any:
    import anthropic  # lazy load: the SDK costs seconds of start-up and is needed only with a key

    try:
        return await client.messages.create(**request)
    except anthropic.AuthenticationError:
        raise ModelError("Claude rejected ANTHROPIC_API_KEY (401): set a valid API key and restart") from None
    except anthropic.PermissionDeniedError:
        raise ModelError(
            "the API key may not use this model (403): check the key's workspace and SITREP_MODEL"
        ) from None
    except anthropic.NotFoundError:
        raise ModelError(f"model {request['model']!r} was not found (404): check SITREP_MODEL") from None
    except anthropic.RateLimitError:
        raise ModelError("Claude is rate-limited (429): try again in a minute") from None
    except anthropic.BadRequestError as exc:
        log.error("the Messages API rejected a request: %s", _message(exc))
        raise ModelError(f"Claude rejected the request (400: {_message(exc)[:200]})") from None
    except anthropic.APIStatusError as exc:
        raise ModelError(f"Claude is failing or overloaded ({exc.status_code}): try again in a minute") from None
    except anthropic.APITimeoutError:
        raise ModelError("Claude did not answer in time: try again in a minute") from None
    except anthropic.APIConnectionError:
        raise ModelError("cannot reach Claude: check ANTHROPIC_BASE_URL and this host's network") from None


def _message(exc: anthropic.APIStatusError) -> str:
    body: dict[str, Any] = exc.body if isinstance(exc.body, dict) else {}
    raw = body.get("error")
    error: dict[str, Any] = raw if isinstance(raw, dict) else {}
    return str(error.get("message") or exc.message)
