"""The Claude tool-use loop: at most MAX_TURNS tool turns; the tools of each turn run concurrently.

A reply that stops at max_tokens is not taken as it is. Cut in its text: it goes back as the assistant turn,
unchanged (its signed thinking too), and a user turn asks to go on; the parts are joined. Cut while thinking (no
text yet) or inside a tool call: the same request is asked again with twice the room. At most MAX_EXTRA such
calls per loop, each with at most MAX_ROOM tokens; past that the loop stops with stop_reason "max_tokens" and
the caller says so instead of posting a cut answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import metrics
from agent.model_client import MAX_ROOM, ModelCall, ModelError
from agent.pricing import Tokens
from agent.prompt import SystemPrompt
from agent.request import build
from agent.toolbox import Toolbox, ToolCall, ToolOutcome
from storage.conversations import Usage
from text.model_text import as_data

if TYPE_CHECKING:
    import anthropic

__all__ = ["GO_ON", "MAX_EXTRA", "MAX_TURNS", "LoopResult", "ModelError", "run_loop"]

log = logging.getLogger(__name__)

MAX_TURNS = 8
MAX_EXTRA = 2  # calls to go on after a reply ran out of room
GO_ON = "Your reply stopped at the length limit. Go on exactly where it stopped, without repeating anything."


@dataclass
class LoopResult:
    text: str
    model: str
    stop_reason: str  # end_turn | max_tokens | refusal | max_turns | ...
    turns: int = 0  # model calls
    tokens: Tokens = field(default_factory=Tokens)
    cost: float | None = 0.0  # estimated dollars; None when the model has no price
    outcomes: list[ToolOutcome] = field(default_factory=list)

    @property
    def tokens_in(self) -> int:
        return self.tokens.total_in

    @property
    def tokens_out(self) -> int:
        return self.tokens.output

    def usage(self) -> Usage:
        t = self.tokens
        return Usage(
            model=self.model,
            tokens_in=t.total_in,
            tokens_out=t.output,
            model_turns=self.turns,
            cache_write_tokens=t.cache_write,
            cache_read_tokens=t.cache_read,
        )


async def run_loop(
    call: ModelCall,
    *,
    system: SystemPrompt,
    messages: list[dict[str, Any]],
    toolbox: Toolbox,
    max_turns: int = MAX_TURNS,
) -> LoopResult:
    """Ask, run the tools the model asks for, answer with their results, until it concludes or the cap is hit.

    On the last allowed turn tools stay declared (the history holds tool blocks) but tool_choice is none, so
    the model has to conclude. Raises ModelError when the API fails.
    """
    tools = toolbox.specs()
    result = LoopResult(text="", model=call.model, stop_reason="")
    turn, extra, room, parts = 1, 0, call.use.max_tokens, []
    while True:
        request = build(call, system, messages, tools, last_turn=turn == max_turns, max_tokens=room)
        reply = await _create(call.client, request)
        _count(call, result, reply)
        text = toolbox.redact("".join(b.text for b in reply.content if b.type == "text"))
        uses = [b for b in reply.content if b.type == "tool_use"]
        result.stop_reason = reply.stop_reason or "end_turn"
        if reply.stop_reason == "max_tokens" and extra < MAX_EXTRA:
            extra += 1
            room = min(room * 2, MAX_ROOM)
            if text.strip() and not uses:  # cut in its text: hand it back and ask to go on
                parts.append(text)
                messages.append(
                    {"role": "assistant", "content": [p for b in reply.content if (p := _param(b, toolbox))]}
                )
                messages.append({"role": "user", "content": GO_ON})
            log.info("Claude's reply ran out of room (%s tokens); asking for the rest", request["max_tokens"])
            continue
        if reply.stop_reason != "tool_use" or not uses:
            result.text = ("".join(parts) + text).strip()
            break
        if turn == max_turns:  # asked for tools although it may not: stop here
            result.stop_reason = "max_turns"
            result.text = text.strip()
            break
        parts = []
        messages.append({"role": "assistant", "content": [p for b in reply.content if (p := _param(b, toolbox))]})
        calls = [ToolCall(b.name, b.input if isinstance(b.input, dict) else {}, b.id) for b in uses]
        outcomes = await toolbox.run(calls)
        result.outcomes += outcomes
        messages.append({"role": "user", "content": [_tool_result(o) for o in outcomes]})
        turn += 1
    return result


def _count(call: ModelCall, result: LoopResult, reply: Any) -> None:
    """One call's tokens by kind into the result and the metrics, with its estimated cost."""
    usage = reply.usage
    written, read = usage.cache_creation_input_tokens or 0, usage.cache_read_input_tokens or 0
    tokens = Tokens(usage.input_tokens or 0, written, read, usage.output_tokens or 0)
    result.turns += 1
    result.model = call.model  # as the rule chose it (a platform may answer with its own spelling)
    result.tokens += tokens
    cost = call.prices.cost(result.model, tokens)
    result.cost = None if cost is None or result.cost is None else result.cost + cost
    metrics.count_model_call(
        call.use.feature, tokens.input, tokens.cache_write, tokens.cache_read, tokens.output, cost or 0.0
    )


def _param(block: Any, toolbox: Toolbox) -> dict[str, Any] | None:
    """A reply block as it goes back to the API: only the fields it needs, redacted; None to leave it out.
    Thinking blocks go back exactly as they came (the API checks their signature)."""
    if block.type == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": toolbox.redact_data(block.input)}
    if block.type == "text":
        return {"type": "text", "text": toolbox.redact(block.text)} if block.text.strip() else None
    return block.model_dump(exclude_none=True)


def _tool_result(outcome: ToolOutcome) -> dict[str, Any]:
    """What a tool returned, as data (text/model_text.py): its log lines and alert texts are never instructions."""
    content = as_data(outcome.call.name, outcome.content)
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": outcome.call.id, "content": content}
    if not outcome.ok:
        block["is_error"] = True
    return block


async def _create(client: Any, request: dict[str, Any]) -> Any:
    import anthropic  # lazy load: the SDK costs seconds of start-up and is needed only with a model

    try:
        return await client.messages.create(**request)
    except anthropic.AuthenticationError:
        raise ModelError(f"Claude rejected {_credentials(client)} (401): set valid ones and restart") from None
    except anthropic.PermissionDeniedError:
        raise ModelError(
            "the credentials may not use this model (403): check the key's workspace and SITREP_MODEL"
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
        raise ModelError(
            "cannot reach Claude: check ANTHROPIC_BASE_URL (or the platform's region) and the network"
        ) from None
    except Exception as exc:  # the platform client's own credential chain (AWS, Google) failed before sending
        raise ModelError(f"the model client could not send the request ({type(exc).__name__}: {exc})"[:300]) from None


def _credentials(client: Any) -> str:
    kind = type(client).__name__
    if "Bedrock" in kind:
        return "the AWS credentials"
    return "the Google credentials" if "Vertex" in kind else "ANTHROPIC_API_KEY"


def _message(exc: anthropic.APIStatusError) -> str:
    body: dict[str, Any] = exc.body if isinstance(exc.body, dict) else {}
    raw = body.get("error")
    error: dict[str, Any] = raw if isinstance(raw, dict) else {}
    return str(error.get("message") or exc.message)
