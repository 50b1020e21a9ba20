"""Report -> Block Kit blocks (within Slack's limits) and -> plain text. Pure functions over reports/model.py.

Sections and the template summary are Jinja2 templates in reports/templates (mrkdwn); numbers are formatted
here, once, so the summary check in reports/summary.py compares like with like.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from reports.model import NO_DATA, OK, PENDING, Figure, Item, Report, Section, failed
from skills.base import redact
from text.mrkdwn import (
    HEADER_TEXT_MAX,
    SECTION_TEXT_MAX,
    code,
    esc,
    link,
    num,
    plain,
    quantity,
    split_mrkdwn,
    truncate,
)

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).with_name("templates")
MESSAGE_BLOCKS_MAX = 50
FALLBACK_MAX = 3000
CUT = "_(cut to fit one Slack message)_"
ARROWS = {"up": "▲", "down": "▼", "flat": "="}
STATUS_MARK = {
    OK: ":large_green_circle:",
    NO_DATA: ":large_yellow_circle:",
    "failed": ":red_circle:",
    PENDING: ":hourglass_flowing_sand:",
}
STATUS_WORD = {OK: "see below", NO_DATA: "no data", "failed": "failed", PENDING: "still gathering"}
TERMINAL_EMOJI = {":large_green_circle:": "🟢", ":large_yellow_circle:": "🟡", ":red_circle:": "🔴"}


def plain_value(value: float | int | None, unit: str = "") -> str:
    return quantity(value, unit)


def figure_value(figure: Figure) -> str:
    return quantity(figure.value, figure.unit)


def trend(figure: Figure) -> str:
    """'▲ 25%', '▼ 3.5%', '= 0%', or '▲ new' when the previous window had none."""
    arrow = ARROWS.get(figure.direction, "")
    if not arrow:
        return ""
    if figure.change_pct is None:
        return f"{arrow} new" if figure.direction == "up" else arrow
    return f"{arrow} {num(abs(figure.change_pct))}%"


def problem(section: Section) -> str:
    """A section that is not ok, in one line: mark, title, "failed: <reason>" (or "no data: <reason>"), next step."""
    reason = esc(section.reason).rstrip(".") or "no reason given"
    step = esc(section.next_step).rstrip(".") or "check sitrep's log"
    word = STATUS_WORD.get(section.status, section.status)
    return f"{STATUS_MARK.get(section.status, '')} *{esc(section.title)}* {word}: {reason}. Next: {step}.".strip()


def figure_named(section: Section, label: str) -> Figure | None:
    return next((f for f in section.figures if f.label == label), None)


def top_item(section: Section, title: str) -> Item | None:
    """The first row of the named listing that names a value (not a placeholder such as "(none)")."""
    listing = next((x for x in section.listings if x.title == title), None)
    return next((i for i in listing.items if not i.placeholder), None) if listing else None


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=False,  # mrkdwn, not HTML: untrusted text is escaped explicitly with `esc`
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )
    env.filters.update(
        esc=esc,
        code=code,
        link=link,
        num=num,
        value=figure_value,
        plainvalue=plain_value,
        trend=trend,
        problem=problem,
    )
    env.globals.update(figure=figure_named, top_item=top_item)
    return env


_ENV = environment()


def render_template(name: str, **context: Any) -> str:
    return _ENV.get_template(name).render(**context)


def section_mrkdwn(section: Section) -> str:
    """The section as mrkdwn; one that cannot be shown (a bug, a shape nobody foresaw) says so instead of taking
    the report down with it."""
    try:
        text = render_template("section.j2", section=section)
    except Exception as exc:
        log.exception("rendering the %s section failed", section.title)
        text = problem(unshowable(section, exc))
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def template_summary(sections: Sequence[Section]) -> str:
    """The summary from the numbers, one sentence per section; a sentence that cannot be written falls back to the
    section's status, so the summary never raises."""
    sentences = []
    for section in sections:
        try:
            sentences.append(render_template("summary.j2", s=section))
        except Exception:
            log.exception("the summary sentence of the %s section failed", section.title)
            sentences.append(f"{esc(section.title)}: {STATUS_WORD.get(section.status, 'see below')}.")
    return " ".join(" ".join(sentences).split())


def unshowable(section: Section, exc: Exception) -> Section:
    return failed(
        section.key,
        section.title,
        f"the section could not be shown ({type(exc).__name__})",
        "check sitrep's log",
        window=section.window,
    )


# -- the message ---------------------------------------------------------------------------------------------

# Block Kit as plain dicts (https://api.slack.com/reference/block-kit/blocks): only bot/ imports slack_sdk.
DIVIDER = {"type": "divider"}


def header_block(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def context_block(mrkdwn: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn}]}


def section_block(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def heading(report: Report) -> str:
    return truncate(f"sitrep · {report.title}", HEADER_TEXT_MAX)


def context_line(report: Report) -> str:
    when = report.generated_at.strftime("%a %d %b %Y %H:%M %Z")
    parts = [f"Generated {when} ({report.timezone})"]
    if report.scheduled_for is not None:
        parts.append(f"scheduled for {report.scheduled_for.strftime('%H:%M %Z')}")
    parts.append("summary by the model" if report.summary_source == "model" else "summary from the numbers")
    parts.append("numbers computed by sitrep; links open their source")
    return " · ".join(parts)


def report_blocks(report: Report, secrets: Sequence[str] = ()) -> list[dict]:
    """Header, context, summary, then each section between dividers; at most 50 blocks, 3000 characters each."""

    def clean(text: str) -> str:
        return redact(text, secrets)

    head: list[dict[str, Any]] = [header_block(heading(report)), context_block(clean(esc(context_line(report))))]
    summary = [c for c in split_mrkdwn(clean(report.summary or "")) if c.strip()]
    bodies = [split_mrkdwn(clean(section_mrkdwn(s)), SECTION_TEXT_MAX) for s in report.sections]

    def over() -> bool:  # the header, the context, the summary and a divider per section count too
        return len(head) + len(summary) + len(bodies) + sum(map(len, bodies)) > MESSAGE_BLOCKS_MAX

    while over() and len(summary) > 1:  # the summary gives way first, down to one block
        _cut_last(summary)
    while over():  # then the longest section, one block at a time, down to one block each
        longest = max(bodies, key=len)
        if len(longest) < 2:
            break
        _cut_last(longest)
    blocks = head + [section_block(chunk) for chunk in summary]
    for chunks in bodies:
        blocks.append(dict(DIVIDER))
        blocks += [section_block(chunk) for chunk in chunks]
    if len(blocks) > MESSAGE_BLOCKS_MAX:  # more sections than fit even at one block each
        blocks = blocks[: MESSAGE_BLOCKS_MAX - 1]
        if blocks[-1] == DIVIDER:
            blocks.pop()
        hidden = len(bodies) - sum(b == DIVIDER for b in blocks)
        note = f"_({hidden} more sections not shown to fit one Slack message; `python app.py report --print` has all)_"
        blocks.append(section_block(note))
    return blocks


def _cut_last(chunks: list[str]) -> None:
    del chunks[-1]
    chunks[-1] = chunks[-1][: SECTION_TEXT_MAX - len(CUT) - 1] + "\n" + CUT


def fallback_text(report: Report, secrets: Sequence[str] = ()) -> str:
    """The notification text beside the blocks: the title and the summary."""
    text = f"{report.title}: {plain(report.summary)}" if report.summary else report.title
    return truncate(redact(text, secrets), FALLBACK_MAX)


def report_text(report: Report, secrets: Sequence[str] = (), *, with_summary: bool = True) -> str:
    """The report for a terminal: the same content as the blocks, each link's URL listed once at the end."""
    parts = [esc(heading(report)), esc(context_line(report)), ""]
    if with_summary and report.summary:
        parts += [report.summary, ""]
    parts += [section_mrkdwn(section) + "\n" for section in report.sections]
    text = plain("\n".join(parts).rstrip()) + "\n"
    for shortcode, emoji in TERMINAL_EMOJI.items():
        text = text.replace(shortcode, emoji)
    return redact(text, secrets)
