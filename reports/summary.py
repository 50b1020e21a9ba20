"""The summary paragraph on top of a report: written by the model when a key is set, from a template otherwise.

The model (agent.summarize with prompts/report.j2) sees the rendered sections as data, links dropped and
secrets redacted, and is told not to change a number. Its paragraph is then checked: every number in it must
appear among the report's own numbers, or the template's paragraph is used instead, and what it writes is made
safe to post (text/model_text.py: no broadcast, mention or disguised link). No key, or any model error, also gives
the template.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from agent import summarize as agent_summarize
from agent.model_client import model_ready
from reports.model import Report
from reports.render import section_mrkdwn, template_summary
from skills.base import redact
from text.model_text import for_slack
from text.mrkdwn import plain

if TYPE_CHECKING:
    from agent.services import Services
    from storage.teams import Team

log = logging.getLogger(__name__)

PROMPT = "report"  # prompts/report.j2
MAX_CHARS = 1200
_NUMBER = re.compile(r"(?<![\w.,])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?!\w)")
_MRKDWN_LINK = re.compile(r"<https?://[^|>]*\|([^>]*)>")
_LINK = re.compile(r"<https?://[^|>]*\|([^>]*)>|\s?\(https?://[^)\s]*\)|https?://\S+")


def _canonical(token: str) -> str:
    try:
        value = Decimal(token.replace(",", ""))
    except InvalidOperation:
        return token
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def numbers_in(text: str) -> set[str]:
    """Every number written in `text`, canonical ("1,234.50" -> "1234.5"); links are left out."""
    without_links = _LINK.sub(lambda m: m.group(1) or "", text)
    return {_canonical(m.group(0)) for m in _NUMBER.finditer(without_links)}


def unknown_numbers(paragraph: str, allowed: Iterable[str]) -> list[str]:
    """The numbers of `paragraph` that are not among `allowed` (canonical forms), in order of appearance."""
    known = set(allowed)
    without_links = _LINK.sub(lambda m: m.group(1) or "", paragraph)
    return [m.group(0) for m in _NUMBER.finditer(without_links) if _canonical(m.group(0)) not in known]


def facts_of(report: Report, secrets: Sequence[str] = ()) -> str:
    """The sections as the model sees them: plain text without links (labels kept), secrets redacted."""
    mrkdwn = "\n\n".join(section_mrkdwn(section) for section in report.sections)
    return redact(plain(_MRKDWN_LINK.sub(r"\1", mrkdwn)), secrets)


async def model_summary(services: Services, team: Team, report: Report, secrets: Sequence[str] = ()) -> str | None:
    """The model's paragraph when every number in it is one of the report's; None otherwise (or on any error)."""
    facts = facts_of(report, secrets)
    windows = "; ".join(f"{s.title}: {s.window}" for s in report.sections if s.window)
    try:
        written = await agent_summarize(services, team, facts, PROMPT, window=windows)
    except Exception as exc:  # the report goes out with the template summary whatever the model does
        log.warning("the model summary failed (%s); using the template", type(exc).__name__)
        return None
    paragraph = " ".join((written or "").split())
    if not paragraph or len(paragraph) > MAX_CHARS:
        if written is not None:
            log.warning("the model summary was empty or too long (%d characters); using the template", len(paragraph))
        return None
    stray = unknown_numbers(paragraph, numbers_in(facts))
    if stray:
        log.warning("the model summary has numbers the report does not (%s); using the template", ", ".join(stray))
        return None
    return for_slack(redact(paragraph, secrets))  # no links asked for: any labelled one shows its plain URL


async def summarize(
    services: Services, team: Team, report: Report, *, use_model: bool = True, secrets: Sequence[str] = ()
) -> tuple[str, str]:
    """(paragraph, "model" | "template"). The model is asked only when one is set up (agent/model_client.py). Never
    raises: the template's paragraph is written section by section, each falling back to a plain line
    (reports/render.py)."""
    if use_model and model_ready(services.settings):
        try:
            written = await model_summary(services, team, report, secrets)
        except Exception:  # model_summary guards the model call; this guards building what it is shown
            log.exception("the model summary failed; using the template")
            written = None
        if written:
            return written, "model"
    return template_summary(report.sections), "template"
