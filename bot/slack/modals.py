"""Opening a config modal: on top of the menu when pressed inside a modal, else a new one; admins only."""

from __future__ import annotations

import json
import logging
from collections.abc import MutableMapping
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from agent.services import Services
from bot.blocks.config_menu import loading_modal, not_allowed_modal
from bot.runtime import Runtime
from bot.slack.admins import is_admin
from bot.slack.context import runtime_of
from bot.slack_client import error_of
from skills.base import redact
from storage.teams import Team

log = logging.getLogger(__name__)


def user_of(body: dict[str, Any]) -> str | None:
    """The user of an interaction (block_actions, view_submission, shortcut) or of a slash command."""
    return (body.get("user") or {}).get("id") or body.get("user_id")


def slack_team_of(body: dict[str, Any]) -> str | None:
    return (body.get("team") or {}).get("id") or body.get("team_id")


async def open_modal(client: AsyncWebClient, body: dict[str, Any], view: dict) -> str:
    """views.push when the button was pressed inside a modal (the Configure menu), else views.open; the view id."""
    view_now = body.get("view")
    inside_modal = isinstance(view_now, dict) and view_now.get("type") == "modal"
    method = client.views_push if inside_modal else client.views_open
    opened = await method(trigger_id=body["trigger_id"], view=view)
    return str(opened["view"]["id"])


async def open_for_admin(services: Services, client: AsyncWebClient, body: dict[str, Any], title: str) -> str | None:
    """Open a loading modal at once (trigger_id lives 3 s), then check who is asking.

    The view id to fill for an admin; None after telling anyone else who can change things (nothing stored).
    """
    view_id = await open_modal(client, body, loading_modal(title))
    if not await is_admin(services, client, user_of(body)):
        await client.views_update(view_id=view_id, view=not_allowed_modal(services.settings.admins))
        return None
    return view_id


async def admin_or_refused(services: Services, client: AsyncWebClient, ack: AsyncAck, user: str | None) -> bool:
    """At a view submission: True for an admin; anyone else's modal turns into who can change things, and the
    caller stores nothing. The check comes before the ack, since the ack carries the answer."""
    if await is_admin(services, client, user):
        return True
    await ack(response_action="update", view=not_allowed_modal(services.settings.admins))
    return False


async def admin_submission(
    ack: AsyncAck, body: dict, client: AsyncWebClient, context: MutableMapping[str, Any]
) -> tuple[Runtime, Team, str] | None:
    """A settings modal's submission: the Runtime, the person's team and their user id when they are an admin;
    None for anyone else, whose modal then says who can change things (nothing is stored)."""
    runtime = runtime_of(context)
    user = user_of(body) or "slack"
    if not await admin_or_refused(runtime.services, client, ack, user):
        return None
    return runtime, await runtime.services.team_for(slack_team_of(body)), user


async def redacted(services: Services, view: dict) -> dict:
    """The view with every secret sitrep holds replaced: nothing set in a config field can echo a credential."""
    return json.loads(redact(json.dumps(view), await services.secrets()))


async def show(client: AsyncWebClient, view_id: str, view: dict) -> bool:
    """Replace an open modal's content after slow work; False when it is gone (the person closed it meanwhile)."""
    try:
        await client.views_update(view_id=view_id, view=view)
    except SlackApiError as exc:
        log.info("modal %s not updated (%s): it was closed or never existed", view_id, error_of(exc))
        return False
    return True
