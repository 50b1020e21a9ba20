"""What the poster may send now, within Slack's limits: pure functions over the outbox's due rows.

Slack allows about one chat.postMessage a second per channel, with short bursts
(https://api.slack.com/methods/chat.postMessage#rate_limiting), and chat.update is a Tier 3 method, 50+ a minute
per workspace (https://api.slack.com/apis/rate-limits). Each limit is a pace scope kept with GCRA (the generic
cell rate algorithm): a scope's theoretical arrival time `tat`; a message may go at `now` when
`tat - (burst - 1) * interval <= now`, and then `tat = max(tat, now) + interval`. Scopes: a channel's posts; the
chat.update method; one message's edits (at most one a second, so a flood of re-notifications is a few edits).

A person waiting (an answer, a DM: priority PRIORITY_ANSWER and up) is not held to the pace: Slack tolerates short
bursts, so it goes at once and only spends the channel's allowance (the alerts and reports behind it wait longer).
Every post waits out a 429's Retry-After, kept as a hold on the scope (`hold:<scope>`), shared by replicas.

Top-level posts of one group key waiting together (an alert storm in one channel) go out as one message: the
first of them carries the others (`MAX_GROUP` lines, `MAX_GROUP_CHARS` of text), each keeping its own line.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.outbox import Choice, OutboxRow
from storage.poster import PRIORITY_ANSWER

MAX_CLAIMS = 20  # rows a sender takes in one claim
# "lines": Slack shows up to 4,000 characters of a message's text before truncating it. "sections": a message
# holds 50 blocks of up to 3,000 characters each (https://api.slack.com/reference/block-kit/blocks).
LIMITS = {"lines": (40, 3500), "sections": (24, 36000)}  # style -> (most rows in one message, most characters)
# ... and the fewest waiting together that are worth one message: a few investigations in a thread go one by one.
GROUP_MIN = {"lines": 2, "sections": 4}
SECTION_MAX = 3000


@dataclass(frozen=True)
class Scope:
    name: str
    interval: float  # seconds between messages, once the burst is spent
    burst: int = 1


POST_INTERVAL_S = 1.0
POST_BURST = 2
UPDATE_INTERVAL_S = 60.0 / 50  # Tier 3
UPDATE_BURST = 10
EDIT_INTERVAL_S = 1.0


def scopes(row: OutboxRow) -> list[Scope]:
    if row.method == "chat.update":
        target = f"{row.parent_id}" if row.parent_id is not None else f"ts{row.target_ts}"
        return [
            Scope("chat.update", UPDATE_INTERVAL_S, UPDATE_BURST),
            Scope(f"edit:{row.channel}:{target}", EDIT_INTERVAL_S, 1),
        ]
    return [Scope(f"post:{row.channel}", POST_INTERVAL_S, POST_BURST)]


def held(row: OutboxRow, until: float) -> dict[str, float]:
    """The pace after a 429 on `row`: its channel's posts (or chat.update) free again at `until`, not before (for
    answers too: the hold), and paced from there, so the rows behind it keep their order."""
    scope = scopes(row)[0]
    return {scope.name: until + (scope.burst - 1) * scope.interval, f"hold:{scope.name}": until}


def free_at(pace: dict[str, float], scope: Scope, now: float) -> float:
    """When a message of `scope` may go (now or later)."""
    tat = pace.get(scope.name, now)
    return max(now, tat - (scope.burst - 1) * scope.interval)


def take(pace: dict[str, float], scope: Scope, now: float) -> float:
    """Spend one message of `scope` now: its new theoretical arrival time."""
    return max(pace.get(scope.name, now), now) + scope.interval


def groupable(row: OutboxRow) -> bool:
    return row.method == "chat.postMessage" and bool(row.group_key)


def thread_of(row: OutboxRow) -> str:
    """The thread a post goes to ("" for the channel itself)."""
    return row.parent_ts if row.parent_id is not None else str(row.payload.get("thread_ts") or "")


def choose(rows: list[OutboxRow], pace: dict[str, float], now: float) -> Choice:
    """The rows to send now, in order (highest priority first, as given), each with the group members it carries;
    the pace they spend; when the first row held back may go."""
    pace = dict(pace)
    changed: dict[str, float] = {}
    taken: set[int] = set()
    choice = Choice()
    for row in rows:
        if row.id in taken:
            continue
        row_scopes = scopes(row)
        ready = max(pace.get(f"hold:{s.name}", now) for s in row_scopes)
        if row.priority < PRIORITY_ANSWER:
            ready = max([ready, *(free_at(pace, s, now) for s in row_scopes)])
        if ready > now:
            choice.wake_at = ready if choice.wake_at is None else min(choice.wake_at, ready)
            continue
        members = _members(row, rows, taken) if groupable(row) else []
        for s in row_scopes:
            pace[s.name] = changed[s.name] = take(pace, s, now)
        choice.claims.append((row.id, members))
        taken.update([row.id, *members])
        if len(choice.claims) >= MAX_CLAIMS:
            break
    choice.pace = changed
    return choice


def _members(head: OutboxRow, rows: list[OutboxRow], taken: set[int]) -> list[int]:
    """The rows waiting with `head` that go out in its message: same group, channel and thread, within the limits."""
    style = str(head.payload.get("group_style") or "lines")
    most, chars = LIMITS.get(style, LIMITS["lines"])
    members: list[int] = []
    size = len(head.line)
    for row in rows:
        if len(members) + 1 >= most:
            break
        if row.id == head.id or row.id in taken or not groupable(row):
            continue
        if row.group_key != head.group_key or row.channel != head.channel or thread_of(row) != thread_of(head):
            continue
        if size + len(row.line) + 1 > chars:
            break
        size += len(row.line) + 1
        members.append(row.id)
    return members if len(members) + 1 >= GROUP_MIN.get(style, 2) else []


def grouped(head_payload: dict, parts: list[str]) -> dict:
    """A grouped message's text (and blocks, style "sections"): its first line (`{n}`: how many), then each part."""
    head = str(head_payload.get("group_head") or "").replace("{n}", str(len(parts)))
    if head_payload.get("group_style") == "sections":
        blocks = [_section(head)] if head else []
        for part in parts:
            blocks += [{"type": "divider"}, _section(part)]
        return {"text": head or parts[0][:SECTION_MAX], "blocks": blocks[:50]}
    return {"text": "\n".join([head, *parts] if head else parts), "blocks": None}


def _section(text: str) -> dict:
    clipped = text if len(text) <= SECTION_MAX else text[: SECTION_MAX - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": clipped}}
