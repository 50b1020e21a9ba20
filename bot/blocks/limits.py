"""Slack's Block Kit limits, checked on built payloads (used by the builders' tests)."""

from __future__ import annotations

from typing import Any

LIMITS = {"message": 50, "modal": 100, "home": 100}
INPUT_MAX = 3000  # plain_text_input: max_length and the value itself


def violations(blocks: list[dict[str, Any]], surface: str = "message") -> list[str]:
    problems = []
    if len(blocks) > LIMITS[surface]:
        problems.append(f"{len(blocks)} blocks > {LIMITS[surface]} for a {surface}")
    for i, block in enumerate(blocks):
        kind = block.get("type")
        text = (block.get("text") or {}).get("text", "")
        if kind == "section":
            if len(text) > 3000:
                problems.append(f"block {i}: section text {len(text)} > 3000")
            fields = block.get("fields") or []
            if len(fields) > 10:
                problems.append(f"block {i}: {len(fields)} fields > 10")
            problems += [f"block {i}: field {j} > 2000" for j, f in enumerate(fields) if len(f.get("text", "")) > 2000]
            if not text and not fields:
                problems.append(f"block {i}: section with neither text nor fields")
        if kind == "header" and len(text) > 150:
            problems.append(f"block {i}: header text {len(text)} > 150")
        if kind == "actions" and len(block.get("elements", [])) > 25:
            problems.append(f"block {i}: more than 25 elements")
        if kind == "context" and len(block.get("elements", [])) > 10:
            problems.append(f"block {i}: more than 10 context elements")
        if kind == "input":
            problems += _input_violations(i, block)
    return problems


def _input_violations(i: int, block: dict[str, Any]) -> list[str]:
    """A plain-text input takes at most 3000 characters (max_length, when set, less); its initial value too."""
    element = block.get("element") or {}
    problems = []
    if element.get("type") == "plain_text_input":
        most = min(element.get("max_length") or INPUT_MAX, INPUT_MAX)
        if (element.get("max_length") or 0) > INPUT_MAX:
            problems.append(f"block {i}: max_length {element['max_length']} > {INPUT_MAX}")
        if len(element.get("initial_value") or "") > most:
            problems.append(f"block {i}: initial_value {len(element['initial_value'])} > max_length {most}")
    if len((block.get("hint") or {}).get("text", "")) > 2000:
        problems.append(f"block {i}: hint > 2000")
    return problems


def view_violations(view: dict[str, Any]) -> list[str]:
    surface = view.get("type", "modal")
    problems = violations(view.get("blocks", []), surface)
    for key in ("title", "submit", "close"):
        text = (view.get(key) or {}).get("text", "")
        if len(text) > 24:
            problems.append(f"{key} {len(text)} > 24 characters")
    if len(view.get("private_metadata", "")) > 3000:
        problems.append("private_metadata > 3000 characters")
    if surface == "modal" and not view.get("title"):
        problems.append("a modal needs a title")
    return problems
