"""The one way anything below `bot/` posts or edits a Slack message: the `Poster` Protocol.

The implementation is bot/poster.py's `SlackPoster` (the Slack Web API client, per-channel pacing, Retry-After,
the claimed outbox rows); the layers below take a `Poster` and never import slack_sdk.

    ref = await poster.post(channel, text, blocks=blocks)      # durable once it returns (a row in slack_outbox)
    ts = await poster.sent(ref)                                # the message ts once Slack took it; PostFailed if not
    reply = await poster.post(channel, text, reply_to=ref)     # waits for its parent to be posted, then threads
    await poster.edit(ref, new_text)                           # chat.update, after the post, coalesced

`post` returns as soon as the message is in the store: a restart or another replica posts it if this process
cannot. Text arrives final: callers escape and redact before they hand it over; the poster sends what it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

# Which message goes first when a channel's allowance is short: a person waiting, then a report, then alerts.
PRIORITY_ANSWER = 300
PRIORITY_REPORT = 200
PRIORITY_ALERT = 100  # + the alert's severity; an alert's investigation in its thread: the severity alone


@dataclass(frozen=True)
class PostRef:
    """A message handed to the poster: its outbox row (the ts is known once posted: `Poster.sent`)."""

    id: int
    channel: str


@dataclass(frozen=True)
class Grouping:
    """A post that may share one message with the others of the same `key` (and thread) waiting to be sent at the
    same time (an alert storm in one channel): `line` is this post's part of it, `head` its first line (`{n}` is
    replaced by how many). Style "lines": one line each, in the message text; "sections": one Block Kit section
    each (a whole investigation)."""

    key: str
    line: str
    head: str
    style: str = "lines"


class PostFailed(Exception):
    """Slack did not take the message: `error` is Slack's error code (`not_in_channel`, `invalid_blocks`…), or
    `http_502` for an answer that was not JSON, `parent_failed` for a reply whose parent was never posted."""

    def __init__(self, error: str, detail: str = "") -> None:
        self.error = error
        self.detail = detail
        super().__init__(f"{error}: {detail}" if detail else error)


class Poster(Protocol):
    async def post(
        self,
        channel: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        reply_to: PostRef | None = None,
        key: str | None = None,
        priority: int = 0,
        group: Grouping | None = None,
    ) -> PostRef:
        """chat.postMessage, durably queued. `thread_ts` or `reply_to` (a post not yet posted: this one waits for
        it) make it a reply; `key` makes it idempotent (a second post with the key returns the first's ref)."""
        ...

    async def edit(
        self,
        message: PostRef | None,
        text: str,
        *,
        channel: str = "",
        ts: str = "",
        blocks: list[dict[str, Any]] | None = None,
        line: str | None = None,
    ) -> None:
        """chat.update of a post (`message`) or of a message by `channel` and `ts`; an edit of a post not yet made
        changes what will be posted; edits of one message waiting together are sent once, the last one winning.
        `line`: its line, when the post went out inside a grouped message."""
        ...

    async def join(self, channel: str) -> None:
        """Make sure sitrep can post in `channel`: a public channel it is not in is joined. Raises, with a line
        for a person (what is wrong, what to do), when it cannot: a private channel it was not invited to, an
        archived or missing one."""
        ...

    async def sent(self, ref: PostRef, timeout: float | None = None) -> str:
        """The message ts once posted; PostFailed when Slack refused it (or `timeout` passed)."""
        ...
