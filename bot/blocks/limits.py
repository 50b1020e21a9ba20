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


OPTIONS_MAX = {"checkboxes": 10, "radio_buttons": 10, "static_select": 100}


def element_violations(element: dict[str, Any], where: str) -> list[str]:
    """An input's or button's own limits: text input lengths (≤ 3000), placeholder 150, options, button text 75."""
    problems = []
    kind = element.get("type")
    if len((element.get("placeholder") or {}).get("text", "")) > 150:
        problems.append(f"{where}: placeholder > 150 characters")
    if kind == "plain_text_input":
        limit = element.get("max_length") or 3000
        if limit > 3000:
            problems.append(f"{where}: max_length {limit} > 3000")
        if len(element.get("initial_value") or "") > min(limit, 3000):
            problems.append(f"{where}: initial_value longer than max_length")
    if kind in OPTIONS_MAX and len(element.get("options") or []) > OPTIONS_MAX[kind]:
        problems.append(f"{where}: more than {OPTIONS_MAX[kind]} options")
    if kind == "button" and len((element.get("text") or {}).get("text", "")) > 75:
        problems.append(f"{where}: button text > 75 characters")
    return problems


def view_violations(view: dict[str, Any]) -> list[str]:
    surface = view.get("type", "modal")
    problems = violations(view.get("blocks", []), surface)
    for i, block in enumerate(view.get("blocks", [])):
        if block.get("type") == "input":
            if len((block.get("label") or {}).get("text", "")) > 2000:
                problems.append(f"block {i}: label > 2000 characters")
            problems += element_violations(block.get("element") or {}, f"block {i}")
        for j, element in enumerate(block.get("elements") or [] if block.get("type") == "actions" else []):
            problems += element_violations(element, f"block {i} element {j}")
    for key in ("title", "submit", "close"):
        text = (view.get(key) or {}).get("text", "")
        if len(text) > 24:
            problems.append(f"{key} {len(text)} > 24 characters")
    if len(view.get("private_metadata", "")) > 3000:
        problems.append("private_metadata > 3000 characters")
    if surface == "modal" and not view.get("title"):
        problems.append("a modal needs a title")
    return problems
