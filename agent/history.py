"""Thread memory: the earlier turns of a Slack thread as Messages API messages, bounded in turns and characters."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from storage.conversations import Turn

MAX_TURNS = 10  # five questions and their answers
MAX_CHARS = 12_000


def as_messages(turns: Sequence[Turn], question: str, redact: Callable[[str], str]) -> list[dict[str, Any]]:
    """Earlier turns then the question: starts with a user turn, roles alternate, every text redacted."""
    messages: list[dict[str, Any]] = []
    for turn in turns:
        text = redact(turn.content).strip()
        if not text:
            continue
        if not messages and turn.role != "user":
            continue  # the API wants a user turn first
        if messages and messages[-1]["role"] == turn.role:
            messages[-1]["content"] += "\n\n" + text
        else:
            messages.append({"role": turn.role, "content": text})
    question = redact(question).strip() or "(empty question)"
    if messages and messages[-1]["role"] == "user":
        messages[-1]["content"] += "\n\n" + question
    else:
        messages.append({"role": "user", "content": question})
    return messages


def earlier_questions(turns: Sequence[Turn]) -> list[str]:
    """The thread's earlier questions, oldest first (the rule-based planner uses them for follow-ups)."""
    return [t.content for t in turns if t.role == "user"]
