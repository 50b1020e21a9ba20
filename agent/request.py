"""A Messages API request for one turn of a use of Claude, ordered for the prompt cache and sized for thinking.

Order, stable first (https://platform.claude.com/docs/en/build-with-claude/prompt-caching): the tools, then the
fixed part of the system prompt with a breakpoint (tools and that part are read from the cache by every call of
the same prompt, model and team for 5 minutes after the last), then the context that changes (time, hints, team
instructions), then the conversation. In the conversation a breakpoint sits on the last block of the last user
turn and one on the turn before, so each turn of a tool loop reads everything up to its previous request and
writes only what was added, whatever the number of blocks added (the API looks back at most 20). Three
breakpoints of the four allowed.

Claude models of the adaptive generation get `thinking: {"type": "adaptive"}` and the use's effort
(`output_config.effort`); max_tokens is the use's room, or more when a reply is asked again. No sampling
parameter is ever sent (current models refuse them). Servers of other models get a plain request: the system
prompt as one string, no cache_control, no thinking.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agent.model_client import ModelCall
from agent.prompt import SystemPrompt

EPHEMERAL = {"type": "ephemeral"}


def build(
    call: ModelCall,
    system: SystemPrompt,
    messages: Sequence[dict[str, Any]],
    tools: Sequence[dict[str, Any]],
    *,
    last_turn: bool,
    max_tokens: int,
) -> dict[str, Any]:
    traits = call.traits
    request: dict[str, Any] = {"model": call.model, "max_tokens": max_tokens}
    if traits.claude:
        blocks: list[dict[str, Any]] = [{"type": "text", "text": system.fixed, "cache_control": EPHEMERAL}]
        if system.context:
            blocks.append({"type": "text", "text": system.context})
        request["system"] = blocks
        request["messages"] = cached(messages)
    else:
        request["system"] = system.text
        request["messages"] = list(messages)
    if tools:
        request["tools"] = list(tools)
        if last_turn:
            request["tool_choice"] = {"type": "none"}
    if traits.adaptive:
        request["thinking"] = {"type": "adaptive"}
        request["output_config"] = {"effort": call.use.effort}
    return request


def cached(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages with a breakpoint on the last block of the last two user turns (copies: the caller's list
    stays as it is, so the blocks are byte for byte the same next turn)."""
    out = list(messages)
    users = [i for i, m in enumerate(out) if m.get("role") == "user"][-2:]
    for i in users:
        content = out[i]["content"]
        blocks: list[dict[str, Any]] = (
            [{"type": "text", "text": content}] if isinstance(content, str) else [dict(b) for b in content]
        )
        if blocks and _markable(blocks[-1]):
            blocks[-1]["cache_control"] = EPHEMERAL
            out[i] = {**out[i], "content": blocks}
    return out


def _markable(block: dict[str, Any]) -> bool:
    return block.get("type") not in ("thinking", "redacted_thinking") and not (
        block.get("type") == "text" and not block.get("text")
    )
