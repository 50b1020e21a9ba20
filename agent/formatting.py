"""Turning tool results into Slack mrkdwn: the conclusion first, then the evidence, every number with its link."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.toolbox import ToolOutcome
from text.mrkdwn import change, code, escape, link, num, pct

MAX_SOURCES = 8

__all__ = [
    "Section",
    "change",
    "code",
    "evidence_digest",
    "labels_text",
    "link",
    "num",
    "pct",
    "render",
    "sources_line",
    "to_mrkdwn",
    "usage_text",
]


@dataclass
class Section:
    """What one intent found: a conclusion sentence, evidence lines (mrkdwn, links included), and failures."""

    title: str
    headline: str | None = None
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def render(sections: Sequence[Section], *, preface: str = "") -> str:
    """The conclusion (every section's headline) first, then each section's evidence, then what failed."""
    headlines = [s.headline for s in sections if s.headline]
    parts: list[str] = [preface] if preface else []
    if headlines:
        parts.append(" ".join(headlines))
    for s in sections:
        if s.lines:
            parts.append(f"*{s.title}*\n" + "\n".join(s.lines))
    failures = [f"• {f}" for s in sections for f in s.failures]
    if failures:
        parts.append("*Could not check*\n" + "\n".join(dict.fromkeys(failures)))
    return "\n\n".join(parts).strip()


def failure_line(outcome: ToolOutcome) -> str:
    return f"{outcome.call.name}: {escape(outcome.error or 'failed')}"


def labels_text(labels: dict[str, Any], skip: Sequence[str] = ("__name__",)) -> str:
    shown = {k: v for k, v in (labels or {}).items() if k not in skip}
    return ", ".join(f"{k}={v}" for k, v in shown.items()) or "all"


# ---------------------------------------------------------------------------------------------------------
# Claude's answers: Markdown habits into Slack mrkdwn, and the sources it used listed once.

_MD_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_MD_BOLD = re.compile(r"\*\*([^*\n]+)\*\*")
_MD_HEADING = re.compile(r"^#{1,6}\s+(.+)$", re.MULTILINE)
_MD_BULLET = re.compile(r"^(\s*)[-*]\s+", re.MULTILINE)


def to_mrkdwn(text: str) -> str:
    """Markdown links, bold, headings and bullets as Slack mrkdwn; Slack-style text is left as it is."""
    text = _MD_LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1).replace('|', '¦')}>", text)
    text = _MD_BOLD.sub(r"*\1*", text)
    text = _MD_HEADING.sub(r"*\1*", text)
    text = _MD_BULLET.sub(r"\1• ", text)
    return text.strip()


def sources_line(outcomes: Sequence[ToolOutcome], already: str) -> str:
    """'Sources: <url|label>, …' for the results with a link that the answer does not cite yet."""
    seen: dict[str, str] = {}
    for o in outcomes:
        if not o.ok or o.repeated:
            continue
        for url in o.links:
            if url not in already and url not in seen:
                seen[url] = source_label(o)
    if not seen:
        return ""
    items = [link(url, label) for url, label in list(seen.items())[:MAX_SOURCES]]
    return "Sources: " + ", ".join(items)


def source_label(outcome: ToolOutcome) -> str:
    """A short label for a result's link: the integration and what was asked."""
    name, args = outcome.call.name, outcome.call.args
    what = args.get("query") or args.get("expr") or args.get("event_type") or args.get("user_id") or ""
    kind = "Amplitude" if name.startswith("amplitude_") else "Grafana"
    what = str(what)
    what = what if len(what) <= 60 else what[:59] + "…"
    return f"{kind}: {what}" if what else f"{kind}: {name.split('_', 1)[-1].replace('_', ' ')}"


def evidence_digest(outcomes: Sequence[ToolOutcome], limit: int = 12) -> str:
    """What the tools returned, one line each, for when the model stopped before concluding."""
    lines = []
    for o in outcomes:
        if o.repeated:
            continue
        if not o.ok:
            lines.append(f"• {failure_line(o)}")
            continue
        first = o.content.split("\n", 1)[0].removeprefix("Summary: ")
        url = o.links[0] if o.links else None
        lines.append(f"• {link(url, source_label(o))}: {escape(first[:200])}")
    return "\n".join(lines[:limit])


def usage_text(rows: Sequence[Any]) -> str:
    """The agent's last 24 h for `python app.py status`: answers, tokens in/out per model, feedback."""
    if not rows:
        return "Agent, last 24 h: no answers yet."
    total = sum(r.answers for r in rows)
    tokens_in, tokens_out = sum(r.tokens_in for r in rows), sum(r.tokens_out for r in rows)
    lines = [f"Agent, last 24 h: {_answers(total)}, {tokens_in:,} model tokens in, {tokens_out:,} out"]
    for r in rows:
        who = (r.model or "Claude") if r.planner == "claude" else "built-in planner (no model)"
        tokens = f", {r.tokens_in:,} tokens in, {r.tokens_out:,} out" if r.planner == "claude" else ""
        votes = f", feedback +{r.votes_up} / -{r.votes_down}" if r.votes_up or r.votes_down else ""
        lines.append(f"  {who}: {_answers(r.answers)}{tokens}{votes}")
    return "\n".join(lines)


def _answers(n: int) -> str:
    return f"{n:,} answer{'s' if n != 1 else ''}"
