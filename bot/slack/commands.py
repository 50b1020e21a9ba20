"""/sitrep: help, status, or a question answered in the channel."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from agent.question import Question
from bot.blocks.answer import fallback_text
from bot.blocks.help import help_text
from bot.dispatch import answer, clean_question
from bot.readiness import readiness_table
from bot.slack.context import runtime_of
from bot.slack.report import run_report_command
from bot.slack.schedule import open_schedule

log = logging.getLogger(__name__)


async def on_sitrep(
    ack: AsyncAck, command: dict, respond: AsyncRespond, client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    runtime = runtime_of(context)
    services = runtime.services
    text = clean_question(command.get("text") or "")
    if text.lower() == "report":
        await run_report_command(runtime, ack, command, respond, client)
        return
    if text.lower() == "config":
        await ack()
        await open_schedule(services, command, client)
        return
    team = await services.team_for(command.get("team_id"))
    if text.lower() in ("", "help"):
        await ack()
        rows = await readiness_table(runtime, team)
        await respond(text=help_text(rows), response_type="ephemeral")
        return
    await ack(text=f"Working on `{text[:100]}`…", response_type="ephemeral")
    question = Question(
        text=text, team=team, source="command", user=command.get("user_id"), channel=command.get("channel_id")
    )
    try:
        reply = await answer(runtime, question)
    except Exception:
        log.exception("/sitrep %s failed", text[:50])
        await respond(
            text=":warning: That failed; try again, and check `python app.py status`.", response_type="ephemeral"
        )
        return
    await respond(text=fallback_text(reply.text), blocks=reply.blocks, response_type="ephemeral")


def register(app: AsyncApp) -> None:
    app.command("/sitrep")(on_sitrep)
