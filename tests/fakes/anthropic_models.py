"""The fake Messages API's models: what each accepts and how it thinks, and the checks the real API makes on a
request's model-dependent parameters (thinking, effort, sampling, forced tool choice, prefill, cache_control).

Written from Anthropic's public model pages and migration guides:
- https://platform.claude.com/docs/en/models/sonnet-5-5/whats-new-sonnet-5-5 (adaptive thinking on by default,
  `thinking: {"type": "disabled"}` refused in favour of "between_tools", forced tool use refused, no prefill)
- https://platform.claude.com/docs/en/models/sonnet-5/migration-guide (non-default temperature / top_p / top_k
  and manual extended thinking return 400; max_tokens caps thinking plus text)
- https://platform.claude.com/docs/en/build-with-claude/adaptive-thinking and .../effort (output_config.effort)
- https://platform.claude.com/docs/en/build-with-claude/prompt-caching (cache_control: "ephemeral", ttl 5m | 1h;
  at most 4 breakpoints; not on thinking blocks or empty text; the minimum cacheable length per model)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EFFORTS = ("low", "medium", "high", "xhigh", "max")
# How much of the fake's thinking a request's effort spends, against the model's default effort.
EFFORT_SHARE = {"low": 0.25, "medium": 0.5, "high": 1.0, "xhigh": 1.5, "max": 2.0}
SAMPLING_DEFAULTS = {"temperature": 1.0, "top_p": 1.0}


@dataclass(frozen=True)
class ModelSpec:
    thinking_default: str  # "adaptive": thinks without a thinking field; "off": does not
    thinking_types: frozenset[str]  # the thinking.type values the model takes
    efforts: frozenset[str]  # the output_config.effort values it takes (empty: effort is refused)
    default_effort: str = "high"
    sampling: bool = True  # non-default temperature / top_p / top_k accepted
    forced_tools: bool = True  # tool_choice "any" / "tool" accepted (never together with thinking)
    prefill: bool = True  # a last assistant message to continue accepted
    cache_min_tokens: int = 1024  # the shortest prefix a breakpoint caches


_FIVE = frozenset(EFFORTS)
MODELS: dict[str, ModelSpec] = {
    "claude-sonnet-5-5": ModelSpec(
        "adaptive", frozenset({"adaptive", "between_tools"}), _FIVE, "high", False, False, False, 1024
    ),
    "claude-opus-5-5": ModelSpec("adaptive", frozenset({"adaptive"}), _FIVE, "medium", False, False, False, 512),
    "claude-haiku-5-5": ModelSpec(
        "adaptive", frozenset({"adaptive", "disabled"}), _FIVE, "medium", False, False, False, 4096
    ),
    "claude-sonnet-5": ModelSpec("adaptive", frozenset({"adaptive", "disabled"}), _FIVE, "high", False, True, True),
    "claude-opus-5": ModelSpec("adaptive", frozenset({"adaptive", "disabled"}), _FIVE, "high", False, True, True, 512),
    "claude-sonnet-4-6": ModelSpec(
        "off",
        frozenset({"adaptive", "enabled", "disabled"}),
        frozenset({"low", "medium", "high", "max"}),
        "high",
        True,
        True,
        True,
        2048,
    ),
    "claude-haiku-4-5": ModelSpec(
        "off", frozenset({"enabled", "disabled"}), frozenset(), "high", True, True, True, 4096
    ),
}


@dataclass(frozen=True)
class Thinking:
    """How a request makes the model think: on or off, and the effort it thinks at."""

    on: bool
    effort: str
    share: float  # of the fake's thinking tokens


def thinking_of(spec: ModelSpec, body: dict[str, Any]) -> Thinking:
    kind = (body.get("thinking") or {}).get("type") or spec.thinking_default
    effort = ((body.get("output_config") or {}).get("effort")) or spec.default_effort
    on = kind in ("adaptive", "enabled")  # between_tools: no thinking before the first tool call or answer
    share = EFFORT_SHARE[effort] / EFFORT_SHARE[spec.default_effort]
    return Thinking(on, effort, share)


def check_parameters(spec: ModelSpec, model: str, body: dict[str, Any]) -> str | None:
    """What the API refuses in a request's model-dependent parameters, as its message; None when all is well."""
    thinking = body.get("thinking")
    kind = (thinking or {}).get("type") if isinstance(thinking, dict) else None
    if thinking is not None and kind not in spec.thinking_types:
        if kind == "enabled":
            return (
                f"thinking.type.enabled is not supported for model {model}; "
                'use thinking.type "adaptive" and output_config.effort'
            )
        if kind == "disabled" and "between_tools" in spec.thinking_types:
            return f'thinking.type "disabled" is not supported for model {model}; use "between_tools"'
        return f"thinking.type: {kind!r} is not supported for model {model}"
    if kind == "enabled":
        budget = thinking.get("budget_tokens") if isinstance(thinking, dict) else None
        if not isinstance(budget, int) or budget < 1024 or budget >= body.get("max_tokens", 0):
            return "thinking.budget_tokens: must be at least 1024 and less than max_tokens"
    config = body.get("output_config")
    effort = config.get("effort") if isinstance(config, dict) else None
    if effort is not None:
        if effort not in EFFORTS:
            return f"output_config.effort: Input should be {', '.join(repr(e) for e in EFFORTS)}"
        if effort not in spec.efforts:
            return f"output_config.effort: effort {effort!r} is not supported for model {model}"
        if kind == "between_tools" and effort in ("xhigh", "max"):
            return f'thinking.type "between_tools" is not supported with effort {effort!r}'
    for name in ("temperature", "top_p", "top_k"):
        if name in body and not spec.sampling and body[name] != SAMPLING_DEFAULTS.get(name, object()):
            return f"{name}: sampling parameters are not supported for model {model}; remove {name}"
    choice = (body.get("tool_choice") or {}).get("type")
    thinks = thinking_of(spec, body).on or kind == "between_tools"
    if choice in ("any", "tool") and (not spec.forced_tools or thinks):
        return (
            f"tool_choice: forced tool use is not supported for model {model}"
            if not spec.forced_tools
            else "Thinking may not be enabled when tool_choice forces tool use."
        )
    messages = body.get("messages") or []
    if messages and isinstance(messages[-1], dict) and messages[-1].get("role") == "assistant" and not spec.prefill:
        return (
            f"This model does not support assistant message prefill (model {model}); "
            "the conversation must end with a user turn"
        )
    return check_cache_control(body)


def check_cache_control(body: dict[str, Any]) -> str | None:
    """cache_control's shape and where it may be: at most 4 breakpoints, never on thinking or empty text."""
    marks = 0
    places: list[tuple[str, Any]] = [(f"tools.{i}", t) for i, t in enumerate(body.get("tools") or [])]
    system = body.get("system")
    if isinstance(system, list):
        places += [(f"system.{i}", b) for i, b in enumerate(system)]
    for i, message in enumerate(body.get("messages") or []):
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            places += [(f"messages.{i}.content.{j}", b) for j, b in enumerate(content)]
    top = body.get("cache_control")
    for where, block in [("cache_control", {"cache_control": top})] if top is not None else []:
        places.insert(0, (where, block))
    for where, block in places:
        mark = block.get("cache_control") if isinstance(block, dict) else None
        if mark is None:
            continue
        if not isinstance(mark, dict) or mark.get("type") != "ephemeral":
            return f"{where}.cache_control.type: Input should be 'ephemeral'"
        if mark.get("ttl", "5m") not in ("5m", "1h"):
            return f"{where}.cache_control.ttl: Input should be '5m' or '1h'"
        if block.get("type") in ("thinking", "redacted_thinking"):
            return f"{where}.cache_control: cache_control cannot be set for thinking blocks"
        if block.get("type") == "text" and not block.get("text"):
            return f"{where}.cache_control: cache_control cannot be set for empty text blocks"
        marks += 1
    if marks > 4:
        return f"A maximum of 4 blocks with cache_control may be provided. Found {marks}."
    return None
