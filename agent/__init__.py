"""The agent: every question (mention, DM, /sitrep, message shortcut, shell) and every report summary.

    reply = await respond(services, question)        # Claude when a model is set up, else the rule-based planner
    text = await summarize(services, team, facts)    # a report's summary paragraph; None without Claude or on failure

With a model (agent/model_client.py: the provider, the model rule, each use's effort and room), Claude gets the
tools of every configured integration (agent/toolbox.py: caps, repeat guard, concurrency) for at most 8 turns;
without one, or past the team's daily token budget (agent/usage.py), agent/rules/planner.py picks intents and
agent/rules/plays*.py run them. Either way the answer is redacted, recorded (planner, model, tokens by kind) and
remembered for follow-ups in its thread.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agent.formatting import evidence_digest, sources_line, to_mrkdwn
from agent.history import MAX_CHARS, MAX_TURNS, as_messages, earlier_questions
from agent.loop import MAX_TURNS as MAX_MODEL_TURNS
from agent.loop import LoopResult, ModelError, run_loop
from agent.model_client import ANSWERS, MAX_ROOM, SUMMARIES, claude, model_ready
from agent.prompt import IntegrationLine, integrations, system_prompt, team_now
from agent.rules.planner import asks_to_create, plan
from agent.rules.plays import ReadinessTable
from agent.rules.rulebook import answer_with_rules
from agent.rules.scope import question_hints
from agent.toolbox import Toolbox
from agent.usage import over_budget, record
from storage.conversations import AnswerRecord, Turn, Usage
from text.model_text import as_data, for_slack

if TYPE_CHECKING:
    from agent.question import Question
    from agent.services import Services
    from storage.teams import Team

__all__ = ["AgentReply", "respond", "summarize"]

log = logging.getLogger(__name__)

_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,20})(?:\|[^>]*)?>")


@dataclass
class AgentReply:
    text: str  # Slack mrkdwn, redacted
    planner: str  # claude | rules
    usage: Usage = field(default_factory=Usage)  # the same record the answers table keeps
    error: str | None = None  # why Claude did not answer, when the rules stood in
    answer_id: int | None = None
    left_out: list[str] = field(default_factory=list)  # integrations held back because they are Blocked, and why

    @property
    def footer(self) -> str:
        """One line on how the answer was made, for the context block under it."""
        u = self.usage
        calls = f"{u.tool_calls} tool call{'s' if u.tool_calls != 1 else ''}"
        left_out = "".join(f" · left out: {why}" for why in self.left_out)
        if self.planner == "claude":
            return f"{u.model} · {calls} · {u.tokens_in:,} tokens in / {u.tokens_out:,} out{left_out}"
        why = "Claude unavailable" if self.error else "no model set up"
        return f"built-in planner ({why}) · {calls}{left_out}"


async def respond(services: Services, question: Question, *, readiness: ReadinessTable | None = None) -> AgentReply:
    """Answer a question (its text already without the @mention) and record it; never raises on tool failures.

    `readiness` is the full readiness table, for the rule-based planner's status answer (without it, that answer
    has no rows)."""
    started = time.monotonic()
    team = question.team
    store = services.storage.conversations
    turns: list[Turn] = []
    if question.channel and question.thread_ts:
        turns = await store.recent_turns(
            team.id, question.channel, question.thread_ts, max_turns=MAX_TURNS, max_chars=MAX_CHARS
        )
    spent = await over_budget(services, team, ANSWERS.feature) if model_ready(services.settings) else None
    if model_ready(services.settings) and spent is None:
        # the readiness rows first: they go into the system prompt, and a Blocked skill's tools are held back
        lines = await integrations(await services.skills_for(team))
        toolbox = await Toolbox.for_team(services, team, allow_write=asks_to_create(question.text))
        try:
            people = people_in(question, turns)
            reply = await _ask_claude(services, team, toolbox, question.text, turns, lines, people)
        except ModelError as exc:
            log.warning("Claude did not answer (%s): the rule-based planner answers instead", exc)
            toolbox = await Toolbox.for_team(services, team, include_unconfigured=True, allow_write=True)
            preface = f":warning: Claude did not answer: {exc}. The built-in planner answered instead."
            reply = await _ask_rules(
                services, team, toolbox, question.text, turns, preface=preface, readiness=readiness
            )
            reply.error = str(exc)
    else:
        toolbox = await Toolbox.for_team(services, team, include_unconfigured=True, allow_write=True)
        preface = f":warning: Claude was not asked: {spent}. The built-in planner answered instead." if spent else ""
        reply = await _ask_rules(services, team, toolbox, question.text, turns, preface=preface, readiness=readiness)
        reply.error = spent
    reply.text = toolbox.redact(reply.text)
    reply.left_out = [toolbox.redact(why) for why in toolbox.blocked.values()]
    reply.usage.tool_calls = toolbox.executed
    reply.usage.tool_errors = sum(1 for o in toolbox.outcomes if not o.ok and not o.repeated)
    record = AnswerRecord(
        team_id=team.id,
        source=question.source,
        question=toolbox.redact(question.text),
        answer=reply.text,
        planner=reply.planner,
        usage=reply.usage,
        duration_ms=int((time.monotonic() - started) * 1000),
        user_id=question.user,
        channel=question.channel,
        thread_ts=question.thread_ts,
        error=reply.error,
    )
    try:
        reply.answer_id = await store.record(record)
    except Exception:  # the answer still goes out; only its record is lost
        log.exception("recording an answer failed")
    return reply


def people_in(question: Question, turns: Sequence[Turn]) -> frozenset[str]:
    """Who is in the conversation: the asker and the people the thread mentions (Slack user ids)."""
    said = [question.text, *(t.content for t in turns if t.role == "user")]
    people = {m for text in said for m in _MENTION.findall(text)}
    return frozenset(people | ({question.user} if question.user else set()))


async def _ask_claude(
    services: Services,
    team: Team,
    toolbox: Toolbox,
    text: str,
    turns: list[Turn],
    lines: list[IntegrationLine],
    people: frozenset[str] = frozenset(),
) -> AgentReply:
    now = team_now(services, team)
    system = system_prompt(
        "planner",
        now=now,
        team=team,
        integrations=lines,
        tools=bool(toolbox.tools),
        max_turns=MAX_MODEL_TURNS,
        extra=question_hints(text, now),
    )
    messages = as_messages(turns, text, toolbox.redact)
    call = claude(services, team, ANSWERS)
    result = await run_loop(call, system=system.map(toolbox.redact), messages=messages, toolbox=toolbox)
    return AgentReply(text=claude_text(result, toolbox.link_hosts, people), planner="claude", usage=result.usage())


def claude_text(result: LoopResult, hosts: Iterable[str] = (), people: Iterable[str] = ()) -> str:
    """The model's answer as mrkdwn, or what the tools found when it stopped without one; sources appended.

    The model's own words go through text/model_text.py: no broadcast, no mention of anyone outside `people`,
    no labelled link to a host outside `hosts`."""
    body = for_slack(to_mrkdwn(result.text), hosts, people)
    if result.stop_reason in ("max_turns", "max_tokens") or not body:  # never a cut answer
        why = {
            "max_turns": f"I stopped after {result.turns} model turns without a conclusion",
            "max_tokens": f"Claude's answer did not fit the length limit ({MAX_ROOM:,} tokens), even continued",
        }.get(result.stop_reason, f"Claude gave no answer (stop reason: {result.stop_reason})")
        digest = evidence_digest(result.outcomes)
        body = f"{why}. What the tools returned:\n{digest}" if digest else f"{why}; no tool was called."
    sources = sources_line(result.outcomes, body)
    return f"{body}\n\n{sources}" if sources else body


async def _ask_rules(
    services: Services,
    team: Team,
    toolbox: Toolbox,
    text: str,
    turns: list[Turn],
    *,
    preface: str = "",
    readiness: ReadinessTable | None = None,
) -> AgentReply:
    the_plan = plan(text, team_now(services, team), earlier_questions(turns))
    body = await answer_with_rules(
        toolbox, the_plan, services=services, team=team, preface=preface, readiness=readiness
    )
    return AgentReply(text=body, planner="rules")


async def summarize(
    services: Services, team: Team, facts_text: str, prompt_name: str = "summary", *, window: str = ""
) -> str | None:
    """A short summary paragraph of a report's facts by Claude: prompts/<prompt_name>.j2 as system prompt, the
    facts as the user message, no tools.

    The template may use team_name, facts and window (its context: now, weekday, timezone, team_prompt). Returns
    None without a model, past the team's token budget, or when Claude fails, so the caller falls back to its
    template. Facts and summary are redacted; the model and tokens are recorded like any answer (source =
    prompt_name).
    """
    if not model_ready(services.settings):
        return None
    if spent := await over_budget(services, team, SUMMARIES.feature):
        log.warning("the report summary is the template's: %s", spent)
        return None
    started = time.monotonic()
    toolbox = Toolbox([], await services.secrets())
    system = system_prompt(
        prompt_name,
        now=team_now(services, team),
        team=team,
        tools=False,
        max_turns=1,
        extra={"facts": toolbox.redact(facts_text), "window": window},
    )
    messages = [{"role": "user", "content": as_data(prompt_name, toolbox.redact(facts_text) or "(no facts)")}]
    try:
        call = claude(services, team, SUMMARIES)
        result = await run_loop(
            call, system=system.map(toolbox.redact), messages=messages, toolbox=toolbox, max_turns=1
        )
    except ModelError as exc:
        log.warning("the report summary fell back to the template: %s", exc)
        return None
    text = toolbox.redact(to_mrkdwn(result.text)) if result.stop_reason != "max_tokens" else ""
    await record(services, team, prompt_name, f"({prompt_name} summary)", text, result, started)
    return text or None
