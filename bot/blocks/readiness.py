"""Readiness rows as Block Kit sections, and as a terminal table."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import SectionBlock

from skills.base import Readiness, ReadinessStatus
from skills.readiness import STATUS_LABEL
from text.mrkdwn import FIELD_TEXT_MAX, escape, truncate

STATUS_EMOJI = {
    ReadinessStatus.READY: ":white_check_mark:",
    ReadinessStatus.BLOCKED: ":no_entry:",
    ReadinessStatus.NOT_CONFIGURED: ":white_circle:",
}


def status_line(row: Readiness) -> str:
    return f"{STATUS_EMOJI[row.status]} *{escape(row.integration)}*: {STATUS_LABEL[row.status]}"


def readiness_section(row: Readiness) -> SectionBlock:
    lines = [status_line(row)]
    if row.detail:
        lines.append(escape(row.detail))
    if row.status is not ReadinessStatus.READY:
        lines.append(f"*Missing:* {escape(row.missing)}")
    lines.append(f"*Next step:* {escape(row.next_step)}")
    return SectionBlock(text=truncate("\n".join(lines), FIELD_TEXT_MAX))


def readiness_summary(rows: Sequence[Readiness]) -> str:
    """One line: '3 of 5 ready · blocked: Grafana, Amplitude'."""
    ready = sum(1 for r in rows if r.ready)
    blocked = [r.integration for r in rows if r.status is ReadinessStatus.BLOCKED]
    unset = [r.integration for r in rows if r.status is ReadinessStatus.NOT_CONFIGURED]
    parts = [f"{ready} of {len(rows)} ready"]
    if blocked:
        parts.append("blocked: " + ", ".join(blocked))
    if unset:
        parts.append("not configured: " + ", ".join(unset))
    return " · ".join(parts)


def readiness_table_text(rows: Sequence[Readiness], width: int = 100) -> str:
    """The table for a terminal (`python app.py status`)."""
    name_w = max(len("INTEGRATION"), *(len(r.integration) for r in rows))
    status_w = max(len("STATUS"), *(len(STATUS_LABEL[r.status]) for r in rows))
    out = [f"{'INTEGRATION'.ljust(name_w)}  {'STATUS'.ljust(status_w)}  DETAILS"]
    indent = " " * (name_w + status_w + 4)
    for r in rows:
        first = r.detail if r.ready and r.detail else ("" if r.ready else f"missing: {r.missing}")
        lines = [first] if first else []
        lines.append(f"next: {r.next_step}")
        out.append(f"{r.integration.ljust(name_w)}  {STATUS_LABEL[r.status].ljust(status_w)}  {lines[0]}")
        out.extend(indent + line for line in lines[1:])
    out.append("")
    out.append(readiness_summary(rows))
    return "\n".join(out)
