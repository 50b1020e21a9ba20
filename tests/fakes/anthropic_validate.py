"""The tool-loop checks of the fake Messages API: what the real API refuses in a conversation's structure
(https://platform.claude.com/docs/en/api/messages, https://platform.claude.com/docs/en/agents-and-tools/tool-use/
handle-tool-calls): every tool_use of an assistant turn answered by a tool_result in the next user turn, valid and
unique tool names, a known tool_choice, a user turn first, non-empty content.
"""

from __future__ import annotations

import re
from typing import Any

_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")


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
