"""Thinking and the length limit in the fake Messages API, as the extended- and adaptive-thinking guides describe
them (https://platform.claude.com/docs/en/build-with-claude/extended-thinking, .../adaptive-thinking):

- A reply made with thinking starts with a `thinking` block carrying a `signature` (the full thinking, sealed);
  with display "omitted" (Claude Sonnet 5.5's default) its `thinking` text is empty.
- Thinking tokens are output tokens and count against `max_tokens`, with the text after them: a reply that runs
  out stops with stop_reason "max_tokens", its text cut where the budget ended.
- Thinking blocks go back to the API unchanged. In a tool loop, the last assistant turn must start with the
  thinking block that came before its tool_use blocks: a dropped block is refused ("Expected `thinking` or
  `redacted_thinking`, but found `tool_use`…"), an edited one too ("Invalid `signature` in `thinking` block").
  A block is valid only with the model that wrote it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.anthropic_cache import tokens_of

_SECRET = b"fake-anthropic-thinking-signing-key"


def text_tokens(text: str) -> int:
    return max(1, len(text.encode()) // 4) if text else 0


@dataclass(frozen=True)
class Sealed:
    model: str
    thinking: str
    tokens: int


@dataclass
class Signer:
    """Signs the thinking blocks the fake writes and checks those that come back."""

    sealed: dict[str, Sealed] = field(default_factory=dict)  # signature -> what it seals
    before_tools: dict[str, str] = field(default_factory=dict)  # tool_use id -> the signature of its turn's thinking

    def block(self, model: str, reply_id: str, thinking: str, tokens: int) -> dict[str, Any]:
        mac = hmac.new(_SECRET, f"{model}|{reply_id}|{tokens}|{thinking}".encode(), hashlib.sha256).digest()
        signature = base64.b64encode(mac * 3).decode()
        self.sealed[signature] = Sealed(model, thinking, tokens)
        return {"type": "thinking", "thinking": thinking, "signature": signature}

    def tokens(self, block: dict[str, Any]) -> int | None:
        sealed = self.sealed.get(str(block.get("signature")))
        return sealed.tokens if sealed else None

    def check(self, model: str, messages: list[dict[str, Any]]) -> str | None:
        """The API's 400 message for a thinking block that was edited or dropped; None when all is well."""
        for i, message in enumerate(messages):
            content = message.get("content")
            for j, block in enumerate(content if isinstance(content, list) else []):
                if not isinstance(block, dict) or block.get("type") != "thinking":
                    continue
                sealed = self.sealed.get(str(block.get("signature")))
                if sealed is None or sealed.thinking != block.get("thinking") or sealed.model != model:
                    return f"messages.{i}.content.{j}: Invalid `signature` in `thinking` block"
        last = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].get("role") == "assistant"), None)
        if last is None or last != len(messages) - 2:
            return None
        content = messages[last].get("content")
        blocks = [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
        uses = [b.get("id") for b in blocks if b.get("type") == "tool_use"]
        wanted = {self.before_tools[u] for u in uses if u in self.before_tools}
        if not wanted:
            return None
        first = blocks[0] if blocks else {}
        if first.get("type") not in ("thinking", "redacted_thinking") or first.get("signature") not in wanted:
            found = first.get("type", "nothing")
            return (
                f"messages.{last}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{found}`. "
                "When `thinking` is enabled, a final `assistant` message must start with a thinking block "
                "(preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include "
                "thinking blocks from previous turns."
            )
        return None


@dataclass(frozen=True)
class Written:
    """A reply as the model wrote it within max_tokens."""

    content: list[dict[str, Any]]
    stop_reason: str
    output_tokens: int
    cut_text: str | None = None  # the text written before the limit, when it cut the text
    rest: list[dict[str, Any]] = field(default_factory=list)  # what the limit kept from being written


def write(
    blocks: list[dict[str, Any]],
    stop_reason: str,
    *,
    max_tokens: int,
    thinking: dict[str, Any] | None,
    thinking_tokens: int,
) -> Written:
    """The reply's blocks after `thinking` (its tokens first), cut where `max_tokens` runs out."""
    content: list[dict[str, Any]] = [thinking] if thinking else []
    left = max_tokens - thinking_tokens
    if left <= 0:
        return Written(content, "max_tokens", max_tokens, rest=list(blocks))
    for k, block in enumerate(blocks):
        if block.get("type") == "text":
            cost = text_tokens(block.get("text", ""))
            if cost > left:
                kept = block["text"].encode()[: left * 4].decode("utf-8", "ignore")
                rest = [dict(block, text=block["text"][len(kept) :]), *blocks[k + 1 :]]
                content.append(dict(block, text=kept))
                text = "".join(b.get("text", "") for b in content if b.get("type") == "text")
                return Written(content, "max_tokens", max_tokens, cut_text=text, rest=rest)
        else:
            cost = tokens_of(block)
            if cost > left:
                text = "".join(b.get("text", "") for b in content if b.get("type") == "text")
                return Written(content, "max_tokens", max_tokens, cut_text=text or None, rest=blocks[k:])
        content.append(block)
        left -= cost
    return Written(content, stop_reason, max_tokens - left)
