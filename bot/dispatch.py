"""The one path every question takes (mention, DM, slash command, shortcut, shell) to its answer."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.blocks.answer import answer_blocks
from bot.blocks.help import help_text
from bot.blocks.readiness import readiness_table_text
from bot.readiness import readiness_table

if TYPE_CHECKING:
    from bot.services import Services
    from storage.teams import Team

log = logging.getLogger(__name__)

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
HELP_WORDS = {"", "help", "?", "hi", "hello", "what can you do", "what can you do?"}
STATUS_WORDS = {"status", "readiness", "integrations"}


@dataclass(frozen=True)
class Question:
    text: str
    team: Team
    source: str  # mention | dm | command | shortcut | shell
    user: str | None = None
    channel: str | None = None
    thread_ts: str | None = None


@dataclass
class Answer:
    text: str
    blocks: list[dict] = field(default_factory=list)
    answer_id: int | None = None


def clean_question(text: str) -> str:
    """The question without the bot's @mention and surrounding whitespace."""
    return _MENTION.sub("", text or "").strip()


async def answer(services: Services, question: Question) -> Answer:
    text = clean_question(question.text)
    words = text.lower().strip(" .!")
    rows = await readiness_table(services, question.team)
    if words in STATUS_WORDS:
        body = "```\n" + readiness_table_text(rows) + "\n```"
        return Answer(body, answer_blocks(body))
    body = help_text(rows)
    if words not in HELP_WORDS:
        body = "I can't answer free-form questions in this version yet; here is what I can do.\n\n" + body
    return Answer(body, answer_blocks(body))
