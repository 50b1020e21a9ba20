"""A question as every surface hands it to the agent (mention, DM, slash command, shortcut, shell)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.teams import Team


@dataclass(frozen=True)
class Question:
    text: str
    team: Team
    source: str  # mention | dm | command | shortcut | shell
    user: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    message_ts: str | None = None  # the message asked (mention, DM) or investigated (shortcut)
