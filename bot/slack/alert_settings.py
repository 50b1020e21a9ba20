"""The Alert investigations modal (Home tab, Configure menu): `alerts.*` changed by admins, shown read-only to
everyone else.

On save, every channel picked is checked with conversations.info (bot/channels.py): sitrep sees a channel's
messages only as a member, so a private channel it is not in is a field error (nothing stored) and a public one
is joined once the settings are stored. The webhooks' channel only needs sitrep to be able to post there.
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.alert_settings import (
    ALERTS_CALLBACK,
    CHANNELS_BLOCK,
    ENABLED_BLOCK,
    WEBHOOK_BLOCK,
    AlertSettings,
    alert_settings_errors,
    alert_settings_modal,
    alerts_patch,
    read_alert_settings,
    read_only_alert_settings,
)
from bot.blocks.config_menu import ALERTS_ACTION, loading_modal, message_modal
from bot.channels import CannotPost, check_access, ensure_member
from bot.slack.admins import is_admin
from bot.slack.context import runtime_of
from bot.slack.home import publish_home
from bot.slack.modals import admin_submission, open_modal, redacted, slack_team_of, user_of
from storage.team_config import ConfigInvalid
from storage.teams import Team

log = logging.getLogger(__name__)
TITLE = "Alert investigations"


def stored(team: Team) -> AlertSettings:
    a = team.config.alerts
    return AlertSettings(
        enabled=a.enabled,
        channels=tuple(a.channels) if a.channels is not None else None,
        channel=a.channel,
        unknown_format_reply=a.unknown_format_reply,
    )


async def access_errors(client: AsyncWebClient, form: AlertSettings) -> tuple[dict[str, str], list[str]]:
    """Field errors for channels sitrep cannot read or post in, and the public channels it must join."""
    errors: dict[str, str] = {}
    to_join: list[str] = []
    problems = []
    for channel in form.channels or ():
        access = await check_access(client, channel)
        if access.member:
            continue
        if access.joinable:
            to_join.append(channel)
        else:
            problems.append(f"<#{channel}>: {access.reason}; {access.next_step}")
    if problems:
        errors[CHANNELS_BLOCK] = ("sitrep cannot read " + "; ".join(problems) + ".")[:1500]
    if form.channel:
        access = await check_access(client, form.channel)
        if not access.can_post:
            errors[WEBHOOK_BLOCK] = f"sitrep cannot post there: {access.reason}. To fix it, {access.next_step}."
    return errors, to_join


async def joined_lines(client: AsyncWebClient, channels: list[str]) -> list[str]:
    lines = []
    for channel in channels:
        try:
            await ensure_member(client, channel)
            lines.append(f"Joined <#{channel}> to read its alerts.")
        except CannotPost as exc:
            lines.append(f":warning: {exc}")
    return lines


async def on_open(ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    services = runtime_of(context).services
    await ack()
    view_id = await open_modal(client, body, loading_modal(TITLE))  # the trigger_id lives 3 s
    team = await services.team_for(slack_team_of(body))
    current = stored(team)
    if await is_admin(services, client, user_of(body)):
        view = alert_settings_modal(current)
    else:
        view = read_only_alert_settings(current)
    await client.views_update(view_id=view_id, view=await redacted(services, view))


async def on_submit(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    if (admin := await admin_submission(ack, body, client, context)) is None:
        return
    runtime, team, user = admin
    form = read_alert_settings((view.get("state") or {}).get("values") or {})
    errors = alert_settings_errors(form)
    to_join: list[str] = []
    if not errors:
        errors, to_join = await access_errors(client, form)
    if errors:
        await ack(response_action="errors", errors=errors)
        return
    patch = alerts_patch(form, stored(team))
    if not patch:
        await ack(response_action="update", view=message_modal(TITLE, ["Nothing changed."]))
        return
    try:
        await runtime.services.storage.config.patch(team.id, patch, user)
    except ConfigInvalid as exc:
        await ack(response_action="errors", errors={ENABLED_BLOCK: "; ".join(exc.problems)[:1500]})
        return
    log.info("alert settings changed by %s: %s", user, ", ".join(patch["alerts"]))
    changed = ", ".join(f"`alerts.{key}`" for key in patch["alerts"])
    lines = [f":white_check_mark: Saved {changed}.", *await joined_lines(client, to_join)]
    await ack(response_action="update", view=message_modal(TITLE, lines))
    await publish_home(runtime, client, user, slack_team_of(body))


def register(app: AsyncApp) -> None:
    app.action(ALERTS_ACTION)(on_open)
    app.view(ALERTS_CALLBACK)(on_submit)
