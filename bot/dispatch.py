"""The one path every question takes (mention, DM, slash command, shortcut, shell) to its answer."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING

import metrics
from agent import respond
from agent.question import Question
from bot.blocks.answer import answer_blocks
from bot.blocks.help import help_text
from bot.blocks.readiness import readiness_table_text
from bot.readiness import readiness_table
from reports.builder import build_report
from reports.render import fallback_text, report_blocks, report_text
from review.slack import review_on_demand

if TYPE_CHECKING:
    from agent.services import Services
    from bot.runtime import Runtime
    from storage.teams import Team

__all__ = ["Answer", "answer", "clean_question", "needs_agent", "report_answer"]

log = logging.getLogger(__name__)

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
HELP_WORDS = {"", "help", "?", "hi", "hello", "what can you do", "what can you do?"}
STATUS_WORDS = {"status", "readiness", "integrations"}
REPORT_WORDS = {"report", "status report", "run report", "report now", "run the report"}


@dataclass
class Answer:
    text: str
    blocks: list[dict] = field(default_factory=list)
    answer_id: int | None = None
    terminal: str | None = None  # how the shell prints it, when that is not the mrkdwn made plain


def clean_question(text: str) -> str:
    """The question without the bot's @mention and surrounding whitespace."""
    return _MENTION.sub("", text or "").strip()


def _words(text: str) -> str:
    return clean_question(text).lower().strip(" .!")


def needs_agent(question: Question) -> bool:
    """False for help and status (answered at once), True for anything the agent investigates."""
    words = _words(question.text)
    return words not in STATUS_WORDS and words not in HELP_WORDS


async def report_answer(services: Services, team: Team) -> Answer:
    """The status report, built now, as an answer in the thread (Slack) or printed (shell)."""
    report = await build_report(services, team)
    secrets = await services.secrets()
    return Answer(fallback_text(report, secrets), report_blocks(report, secrets), terminal=report_text(report, secrets))


async def review_answer(services: Services, question: Question) -> Answer | None:
    """`review <pull request URL>`: review it now (a forced review) and answer with the link; None if no URL."""
    text = await review_on_demand(services, question.team, clean_question(question.text), question.user or "shell")
    return None if text is None else Answer(text, answer_blocks(text))


async def answer(runtime: Runtime, question: Question) -> Answer:
    """Help and status here; every other question goes to the agent (Claude, or the rule-based planner)."""
    services = runtime.services
    words = _words(question.text)
    if words in STATUS_WORDS or words in HELP_WORDS:
        rows = await readiness_table(runtime, question.team)
        if words in STATUS_WORDS:
            body = "```\n" + readiness_table_text(rows) + "\n```"
            return Answer(body, answer_blocks(body))
        body = help_text(rows)
        return Answer(body, answer_blocks(body))
    if words in REPORT_WORDS:
        return await report_answer(services, question.team)
    started = time.monotonic()
    if words.startswith("review ") and (review := await review_answer(services, question)) is not None:
        return review
    cleaned = replace(question, text=clean_question(question.text))
    reply = await respond(services, cleaned, readiness=partial(readiness_table, runtime))
    metrics.count_question(question.source, reply.planner, time.monotonic() - started)
    blocks = answer_blocks(reply.text, answer_id=reply.answer_id, footer=reply.footer)
    return Answer(reply.text, blocks, answer_id=reply.answer_id)
