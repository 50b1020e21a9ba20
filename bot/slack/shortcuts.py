"""The global shortcut (readiness in a modal) and the message shortcut (investigate a message in its thread)."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.models.blocks import SectionBlock
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.help import help_text
from bot.blocks.text import split_mrkdwn
from bot.dispatch import Question
from bot.readiness import readiness_table
from bot.services import Services
from bot.slack.mentions import thread_of
from bot.slack.replies import answer_in_thread

log = logging.getLogger(__name__)

GLOBAL_SHORTCUT = "sitrep_open"
MESSAGE_SHORTCUT = "sitrep_investigate"


def loading_modal() -> dict:
    return View(
        type="modal", title="sitrep", close="Close", blocks=[SectionBlock(text="Checking integrations…")]
    ).to_dict()


def help_modal(text: str) -> dict:
    blocks = [SectionBlock(text=chunk) for chunk in split_mrkdwn(text)[:100]]
    return View(type="modal", title="sitrep", close="Close", blocks=blocks).to_dict()


def register(app: AsyncApp, services: Services) -> None:
    @app.shortcut(GLOBAL_SHORTCUT)
    async def on_global(ack: AsyncAck, body: dict, client: AsyncWebClient) -> None:
        await ack()
        # trigger_id lives 3 s: open the modal first, then fill it.
        opened = await client.views_open(trigger_id=body["trigger_id"], view=loading_modal())
        team = await services.team_for((body.get("team") or {}).get("id"))
        rows = await readiness_table(services, team)
        await client.views_update(view_id=opened["view"]["id"], view=help_modal(help_text(rows)))

    @app.shortcut(MESSAGE_SHORTCUT)
    async def on_message_shortcut(ack: AsyncAck, body: dict, client: AsyncWebClient) -> None:
        await ack()
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id")
        if not channel or not message.get("ts"):
            log.warning("message shortcut without channel or message: ignored")
            return
        team = await services.team_for((body.get("team") or {}).get("id"))
        question = Question(
            text=message.get("text") or "",
            team=team,
            source="shortcut",
            user=(body.get("user") or {}).get("id"),
            channel=channel,
            thread_ts=thread_of(message),
        )
        await answer_in_thread(services, client, question)
