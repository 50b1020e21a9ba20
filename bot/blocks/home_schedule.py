"""Home tab sections: the config buttons (or a read-only note), the report schedule, and recent config changes.

Each builder returns a bounded list of blocks, so the Home tab stays within 100 blocks for any number of jobs:
past HOME_JOBS_MAX the schedule is one summary line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.blocks.config_menu import WHO_MAY, config_buttons
from bot.blocks.schedule import DAY_LABELS, window_text
from storage.audit import AuditEntry
from text.mrkdwn import escape, truncate

HOME_JOBS_MAX = 10
HISTORY_MAX = 5
HISTORY_ACTIONS = ("config.patch", "credential.set", "credential.delete")
_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_CHANNEL_MENTION = re.compile(r"&lt;#([CG][A-Z0-9]{2,})&gt;")


@dataclass(frozen=True)
class LastRun:
    status: str  # posted | failed | missed | running
    at: datetime  # the slot it was for
    link: str | None = None  # the posted message
    error: str | None = None


@dataclass(frozen=True)
class JobStatus:
    """One scheduled report as the Home tab shows it."""

    name: str
    time: str  # "18:30"
    days: str  # a key of DAY_LABELS
    timezone: str
    channel: str | None
    enabled: bool
    window_hours: float
    sections: tuple[str, ...]
    next_run: datetime | None = None
    last: LastRun | None = None


def escape_error(text: str) -> str:
    """A recorded error as mrkdwn: escaped, except the channel mentions sitrep itself wrote (<#C0123>)."""
    return _CHANNEL_MENTION.sub(r"<#\1>", escape(text))


def when(at: datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%a %d %b %H:%M %Z")


def describe_last(last: LastRun, tz: str) -> str:
    at = when(last.at, tz)
    if last.status == "posted":
        return f"last: <{last.link}|posted {at}>" if last.link else f"last: posted {at}"
    if last.status == "missed":
        return f"last: :double_vertical_bar: missed {at} while sitrep was down" + (
            f" ({escape_error(last.error)})" if last.error else ""
        )
    if last.status == "failed":
        return f"last: :warning: failed {at}: {escape_error(last.error or 'no reason recorded')}"
    return f"last: running since {at}"


def job_line(job: JobStatus, team_tz: str) -> str:
    where = f"<#{job.channel}>" if job.channel else "no channel"
    head = (
        f"*{escape(job.name)}* · {DAY_LABELS.get(job.days, job.days)} {job.time} {escape(job.timezone)} → {where} · "
        f"{window_text(round(job.window_hours))} · {', '.join(job.sections)}"
    )
    if not job.enabled:
        state = "*off*"
    elif job.next_run is not None:
        state = f"next: {when(job.next_run, team_tz)}"
    else:
        state = "not scheduled: sitrep's scheduler is not running"
    parts = [state] + ([describe_last(job.last, team_tz)] if job.last else ["never run yet"])
    return truncate(head + "\n" + " · ".join(parts), 3000)


def schedule_blocks(jobs: Sequence[JobStatus], team_tz: str, limit: int = HOME_JOBS_MAX) -> list:
    """The schedule: one section per job up to `limit`, then one line summing up the rest."""
    blocks: list = [HeaderBlock(text="Scheduled reports")]
    if not jobs:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="No scheduled reports yet: *Add a report*.")))
        return blocks
    ordered = sorted(jobs, key=lambda j: (not j.enabled, j.next_run is None, j.next_run or datetime.max, j.name))
    blocks += [SectionBlock(text=MarkdownTextObject(text=job_line(job, team_tz))) for job in ordered[:limit]]
    rest = ordered[limit:]
    if rest:
        on = sum(1 for job in rest if job.enabled)
        names = ", ".join(escape(job.name) for job in rest)
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=truncate(f"and {len(rest)} more ({on} on): {names}. *Reports & schedule* has them.", 2000)
                    )
                ]
            )
        )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Times in the team's time zone, {team_tz}.")]))
    return blocks


def _flatten(patch: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(patch, Mapping) and patch:
        return [leaf for key, value in patch.items() for leaf in _flatten(value, f"{prefix}{key}.")]
    return [(prefix.rstrip("."), patch)]


def _shown(path: str, value: Any) -> str:
    if value is None:
        return "unset"
    if path.endswith("prompt.system"):
        return f"set ({len(str(value))} characters)" if value else "cleared"
    if path == "reports.jobs" and isinstance(value, list):
        names = [str(job.get("name")) for job in value if isinstance(job, Mapping)]
        return f"{len(names)} reports ({', '.join(names)})"
    if isinstance(value, list):
        return f"{len(value)} items"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, str) and re.fullmatch(r"[CG][A-Z0-9]{2,}", value):
        return f"<#{value}>"
    return escape(truncate(str(value), 60))


def describe_change(entry: AuditEntry) -> str:
    """What changed, without any secret: config paths and values, credentials only as stored (masked)."""
    detail = entry.detail
    if entry.action == "config.patch":
        leaves = _flatten(detail.get("patch"))
        return "; ".join(f"`{path}` → {_shown(path, value)}" for path, value in leaves) or "no change"
    credential = escape(str(detail.get("credential", "a credential")))
    if entry.action == "credential.delete":
        return f"`{credential}` removed"
    return f"`{credential}` {escape(str(detail.get('value') or 'set'))}"


def actor_text(actor: str) -> str:
    if _USER.match(actor):
        return f"<@{actor}>"
    return {"admin-api": "the admin API", "cli": "the command line", "system": "sitrep"}.get(actor, escape(actor))


def history_blocks(entries: Sequence[AuditEntry], team_tz: str, limit: int = HISTORY_MAX) -> list:
    """The last config changes: who, what, when."""
    changes = [e for e in entries if e.action in HISTORY_ACTIONS][:limit]
    blocks: list = [HeaderBlock(text="Recent changes")]
    if not changes:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="No configuration changes yet.")]))
        return blocks
    for entry in changes:
        at = datetime.fromisoformat(entry.at.replace("Z", "+00:00"))
        text = f"{when(at, team_tz)} · {actor_text(entry.actor)} · {describe_change(entry)}"
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=truncate(text, 2000))]))
    return blocks


def config_blocks(can_configure: bool) -> list:
    """The config buttons for those who may change things; a read-only note for everyone else."""
    if can_configure:
        return [HeaderBlock(text="Configure"), config_buttons()]
    return [
        ContextBlock(elements=[MarkdownTextObject(text=f":lock: Read-only: settings can be changed by {WHO_MAY}.")])
    ]
