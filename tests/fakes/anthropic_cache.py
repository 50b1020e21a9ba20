"""Prompt-cache accounting for the fake Messages API, as https://platform.claude.com/docs/en/build-with-claude/
prompt-caching describes it:

- The prompt is one sequence of blocks: tools, then system, then messages, in that order.
- A breakpoint is a block with `cache_control` (or, with a top-level `cache_control`, the last cacheable block:
  automatic caching). A cache entry is the exact prefix up to and including a breakpoint, for one model.
- A read: at each breakpoint the API looks for an entry at that block boundary and at the boundaries before it,
  up to 20 blocks back; the longest prefix found is read (`cache_read_input_tokens`).
- A write: each breakpoint past the read whose prefix reaches the model's minimum cacheable length is stored;
  the tokens between the read and the last such breakpoint are written (`cache_creation_input_tokens`).
  Shorter prefixes are not cached, and nothing says so but the zero counts.
- `input_tokens` is the rest: what comes after the last breakpoint written or read.
- An entry lives 5 minutes ("ttl": "1h": an hour) from its last use; a read refreshes it.

Tokens are counted per block as the bytes of its canonical JSON // 4 (a thinking block counts the thinking
tokens it was made of, which its signature stands for).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

LOOKBACK_BLOCKS = 20
TTL_S = {"5m": 300.0, "1h": 3600.0}


@dataclass
class Block:
    role: str  # tool | system | user | assistant
    data: dict[str, Any]  # the block without cache_control
    mark: dict[str, Any] | None  # its cache_control, when it has one
    tokens: int

    @property
    def cacheable(self) -> bool:
        kind = self.data.get("type")
        return kind not in ("thinking", "redacted_thinking") and not (kind == "text" and not self.data.get("text"))


@dataclass(frozen=True)
class Accounting:
    input_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int
    ttl_written: str = "5m"

    @property
    def total(self) -> int:
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens

    def usage(self) -> dict[str, Any]:
        written = self.cache_creation_input_tokens
        return {
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": written,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_creation": {
                "ephemeral_5m_input_tokens": written if self.ttl_written == "5m" else 0,
                "ephemeral_1h_input_tokens": written if self.ttl_written == "1h" else 0,
            },
        }


def tokens_of(data: Any) -> int:
    return max(1, len(json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()) // 4)


def blocks_of(body: dict[str, Any], thinking_tokens: Callable[[dict[str, Any]], int | None]) -> list[Block]:
    """The request as one sequence of blocks: tools, system, messages."""
    out: list[Block] = []

    def add(role: str, block: Any) -> None:
        if not isinstance(block, dict):
            return
        data = {k: v for k, v in block.items() if k != "cache_control"}
        counted = thinking_tokens(data) if data.get("type") in ("thinking", "redacted_thinking") else None
        out.append(Block(role, data, block.get("cache_control"), counted or tokens_of(data)))

    for tool in body.get("tools") or []:
        add("tool", tool)
    system = body.get("system")
    for block in [{"type": "text", "text": system}] if isinstance(system, str) else system or []:
        add("system", block)
    for message in body.get("messages") or []:
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
        for block in blocks:
            add(str(message.get("role")), block)
    top = body.get("cache_control")
    if isinstance(top, dict):
        last = next((b for b in reversed(out) if b.cacheable), None)
        if last is not None and last.mark is None:
            last.mark = top
    return out


@dataclass
class PromptCache:
    """Entries by prefix key, each with its expiry on `clock` (seconds)."""

    clock: Callable[[], float]
    entries: dict[str, tuple[float, str]] = field(default_factory=dict)  # key -> (expires at, ttl)

    def account(self, model: str, blocks: list[Block], min_tokens: int) -> Accounting:
        now = self.clock()
        keys, prefix, running, digest = [], [], 0, hashlib.sha256(model.encode()).hexdigest()
        for block in blocks:
            digest = hashlib.sha256((digest + block.role + json.dumps(block.data, sort_keys=True)).encode()).hexdigest()
            keys.append(digest)
            running += block.tokens
            prefix.append(running)
        marks = [i for i, b in enumerate(blocks) if b.mark is not None]
        hit = -1
        for b in marks:
            for j in range(b, max(-1, b - LOOKBACK_BLOCKS), -1):
                entry = self.entries.get(keys[j])
                if entry is not None and entry[0] > now:
                    hit = max(hit, j)
                    break
        if hit >= 0:
            ttl = self.entries[keys[hit]][1]
            self.entries[keys[hit]] = (now + TTL_S[ttl], ttl)
        written, ttl_written = hit, "5m"
        for b in marks:
            if b > hit and prefix[b] >= min_tokens:
                ttl = str((blocks[b].mark or {}).get("ttl", "5m"))
                self.entries[keys[b]] = (now + TTL_S[ttl], ttl)
                written, ttl_written = b, ttl
        read = prefix[hit] if hit >= 0 else 0
        created = prefix[written] - read if written > hit else 0
        total = prefix[-1] if prefix else 0
        return Accounting(total - read - created, created, read, ttl_written)
