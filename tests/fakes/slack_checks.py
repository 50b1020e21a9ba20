"""Slack's payload limit checks for the fake Slack: Block Kit blocks, views and their text lengths."""

from __future__ import annotations

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


def view_errors(view: dict) -> list[str]:
    problems = block_errors(view.get("blocks", []), "/view/blocks", limit=100)
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
