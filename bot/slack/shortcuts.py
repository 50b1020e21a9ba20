"""The global shortcut (readiness in a modal) and the message shortcut (investigate a message in its thread)."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.models.blocks import SectionBlock
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from agent.question import Question
from bot.blocks.help import help_text
from bot.channels import CannotPost, ensure_member
from bot.readiness import readiness_table
from bot.slack.context import runtime_of
from bot.slack.mentions import thread_of
from bot.slack.replies import ANSWERS, answer_in_thread, tell_user
from text.mrkdwn import split_mrkdwn

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


async def on_global(ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    runtime = runtime_of(context)
    services = runtime.services
    await ack()
    # trigger_id lives 3 s: open the modal first, then fill it.
    opened = await client.views_open(trigger_id=body["trigger_id"], view=loading_modal())
    team = await services.team_for((body.get("team") or {}).get("id"))
    rows = await readiness_table(runtime, team)
    await client.views_update(view_id=opened["view"]["id"], view=help_modal(help_text(rows)))


async def on_message_shortcut(ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    runtime = runtime_of(context)
    services = runtime.services
    await ack()
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id")
    if not channel or not message.get("ts"):
        log.warning("message shortcut without channel or message: ignored")
        return
    user = (body.get("user") or {}).get("id")
    try:
        await ensure_member(client, channel)
    except CannotPost as exc:
        # sitrep cannot post in that channel, ephemerally included: tell the person in its DM.
        if user:
            await tell_user(runtime, user, f":warning: I could not answer in that thread: {exc}")
        return
    team = await services.team_for((body.get("team") or {}).get("id"))
    question = Question(
        text=investigation(message),
        team=team,
        source="shortcut",
        user=user,
        channel=channel,
        thread_ts=thread_of(message),
        message_ts=message.get("ts"),
    )
    work = answer_in_thread(runtime, client, question)
    runtime.supervisor.spawn(work, "answering a message shortcut", group=ANSWERS)  # a shutdown lets it finish


def register(app: AsyncApp) -> None:
    app.shortcut(GLOBAL_SHORTCUT)(on_global)
    app.shortcut(MESSAGE_SHORTCUT)(on_message_shortcut)


INVESTIGATE = "Investigate this Slack message and say what is going on:\n"
MESSAGE_TEXT_MAX = 4000


def investigation(message: dict) -> str:
    """The question the message shortcut asks: the message's words (text, attachments, blocks) quoted."""
    body = message_text(message)
    if not body:
        return INVESTIGATE + "> (the message has no text)"
    quoted = "\n".join(f"> {line}" for line in body.splitlines() if line.strip())
    return INVESTIGATE + quoted


def message_text(message: dict) -> str:
    """Every human-readable string of a message: text, attachment fields and block texts, de-duplicated."""
    parts: list[str] = [message.get("text") or ""]
    for att in message.get("attachments") or []:
        if isinstance(att, dict):
            parts += [str(att.get(k) or "") for k in ("pretext", "title", "text")]
            parts += [
                f"{f.get('title', '')}: {f.get('value', '')}" for f in att.get("fields") or [] if isinstance(f, dict)
            ]
            if not any(att.get(k) for k in ("pretext", "title", "text")):
                parts.append(str(att.get("fallback") or ""))
    parts += _block_strings(message.get("blocks") or [])
    seen: dict[str, None] = {}
    for part in parts:
        part = part.strip()
        if part and not any(part in earlier for earlier in seen):
            seen[part] = None
    text = "\n".join(seen)
    return text if len(text) <= MESSAGE_TEXT_MAX else text[: MESSAGE_TEXT_MAX - 1] + "…"


def _block_strings(node: object) -> list[str]:
    """The text of section, header, context and rich_text blocks, depth first."""
    if isinstance(node, list):
        return [s for item in node for s in _block_strings(item)]
    if not isinstance(node, dict):
        return []
    if node.get("type") in ("text", "mrkdwn", "plain_text") and isinstance(node.get("text"), str):
        return [node["text"]]
    if node.get("type") == "rich_text_section":
        return [
            "".join(str(e.get("text") or e.get("url") or "") for e in node.get("elements") or [] if isinstance(e, dict))
        ]
    out: list[str] = []
    for key in ("text", "fields", "elements"):
        if key in node:
            out += _block_strings(node[key])
    return out
