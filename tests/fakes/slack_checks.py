"""Slack's payload limit checks for the fake Slack: Block Kit blocks, views and their text lengths."""

from __future__ import annotations

import re
from typing import Any


def _text(obj: Any) -> str:
    return obj.get("text", "") if isinstance(obj, dict) else ""


def block_errors(blocks: Any, pointer: str, limit: int) -> list[str]:
    """The cheap Block Kit limits Slack enforces, as Slack words them in response_metadata.messages."""
    if not isinstance(blocks, list):
        return [f"[ERROR] must be an array [json-pointer:{pointer}]"]
    problems = [f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}]"] if len(blocks) > limit else []
    for i, block in enumerate(blocks):
        where = f"[json-pointer:{pointer}/{i}"
        if not isinstance(block, dict) or not block.get("type"):
            problems.append(f"[ERROR] missing required field: type {where}]")
            continue
        text, fields = _text(block.get("text")), block.get("fields") or []
        if block["type"] == "section":
            if len(text) > 3000:
                problems.append(f"[ERROR] must be less than 3001 characters {where}/text/text]")
            if len(fields) > 10:
                problems.append(f"[ERROR] no more than 10 items allowed {where}/fields]")
            problems += [
                f"[ERROR] must be less than 2001 characters {where}/fields/{j}/text]"
                for j, f in enumerate(fields)
                if len(_text(f)) > 2000
            ]
            if not text and not fields:
                problems.append(f"[ERROR] must provide either text or fields {where}]")
        elif block["type"] == "header" and len(text) > 150:
            problems.append(f"[ERROR] must be less than 151 characters {where}/text/text]")
    return problems


# Element limits from Slack's Block Kit reference, checked on views' input and actions blocks.
_OPTIONS_MAX = {"checkboxes": 10, "radio_buttons": 10, "static_select": 100, "multi_static_select": 100}
_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def element_errors(element: Any, where: str) -> list[str]:
    """plain_text_input lengths, option counts, placeholder and button text, timepicker initial_time."""
    if not isinstance(element, dict):
        return [f"[ERROR] must be an object [json-pointer:{where}]"]
    problems = []
    kind = element.get("type")
    if len(_text(element.get("placeholder"))) > 150:
        problems.append(f"[ERROR] must be less than 151 characters [json-pointer:{where}/placeholder/text]")
    if kind == "plain_text_input":
        for key in ("min_length", "max_length"):
            if isinstance(element.get(key), int) and not 0 <= element[key] <= 3000:
                problems.append(f"[ERROR] must be at most 3000 [json-pointer:{where}/{key}]")
        limit = min(element.get("max_length") or 3000, 3000)
        if len(element.get("initial_value") or "") > limit:
            problems.append(f"[ERROR] must be less than {limit + 1} characters [json-pointer:{where}/initial_value]")
    if kind in _OPTIONS_MAX and len(element.get("options") or []) > _OPTIONS_MAX[kind]:
        problems.append(f"[ERROR] no more than {_OPTIONS_MAX[kind]} items allowed [json-pointer:{where}/options]")
    if kind == "timepicker" and element.get("initial_time") and not _TIME.match(element["initial_time"]):
        problems.append(f"[ERROR] must be in the format HH:mm [json-pointer:{where}/initial_time]")
    if kind == "button" and len(_text(element.get("text"))) > 75:
        problems.append(f"[ERROR] must be less than 76 characters [json-pointer:{where}/text/text]")
    return problems


def view_errors(view: dict) -> list[str]:
    problems = block_errors(view.get("blocks", []), "/view/blocks", limit=100)
    for i, block in enumerate(b for b in view.get("blocks") or [] if isinstance(b, dict)):
        where = f"/view/blocks/{i}"
        if block.get("type") == "input":
            if len(_text(block.get("label"))) > 2000:
                problems.append(f"[ERROR] must be less than 2001 characters [json-pointer:{where}/label/text]")
            problems += element_errors(block.get("element"), f"{where}/element")
        if block.get("type") == "actions":
            for j, element in enumerate(block.get("elements") or []):
                problems += element_errors(element, f"{where}/elements/{j}")
    if view.get("type") not in ("modal", "home"):
        problems.append("[ERROR] must be one of modal, home [json-pointer:/view/type]")
    if len(view.get("private_metadata") or "") > 3000:
        problems.append("[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]")
    if view.get("type") == "modal":
        if not _text(view.get("title")):
            problems.append("[ERROR] missing required field: title [json-pointer:/view/title]")
        problems += [
            f"[ERROR] must be less than 25 characters [json-pointer:/view/{key}/text]"
            for key in ("title", "submit", "close")
            if len(_text(view.get(key))) > 24
        ]
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
        if has_input and not view.get("submit"):
            problems.append("[ERROR] must provide a submit property when using input blocks [json-pointer:/view]")
    return problems
