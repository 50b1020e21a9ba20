"""Reports on demand: the Home tab's "Run report now" button and `/sitrep report` (hooked in commands.py)."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.services import Services
from reports.post import NO_CHANNEL, ReportError, build_and_post, report_channel

log = logging.getLogger(__name__)

RUN_NOW_ACTION = "report_run_now"
WORKING = "Building the status report for this channel; it takes a few seconds…"
FAILED = ":warning: The report could not be posted: {what}"


async def run_report_command(
    services: Services, ack: AsyncAck, command: dict, respond: AsyncRespond, client: AsyncWebClient
) -> str | None:
    """`/sitrep report`: ack at once, then build the report and post it to the channel the command came from."""
    await ack(text=WORKING, response_type="ephemeral")
    channel = command.get("channel_id")
    team = await services.team_for(command.get("team_id"))
    if not channel:
        await respond(text=FAILED.format(what="Slack did not say which channel"), response_type="ephemeral")
        return None
    try:
        ts, _ = await build_and_post(services, team, channel, client=client)
    except ReportError as exc:
        await respond(text=FAILED.format(what=exc), response_type="ephemeral")
        return None
    except Exception as exc:
        log.exception("/sitrep report failed")
        await respond(text=FAILED.format(what=type(exc).__name__), response_type="ephemeral")
        return None
    return ts


async def _tell(client: AsyncWebClient, user: str, text: str) -> None:
    """A note to the user in their DM with sitrep (the app's Messages tab)."""
    try:
        await client.chat_postMessage(channel=user, text=text)
    except SlackApiError as exc:
        log.error("could not tell %s about the report: %s", user, exc.response.get("error"))


def register(app: AsyncApp, services: Services) -> None:
    @app.action(RUN_NOW_ACTION)
    async def on_run_now(ack: AsyncAck, body: dict, client: AsyncWebClient) -> None:
        await ack()
        user = (body.get("user") or {}).get("id")
        team = await services.team_for((body.get("team") or {}).get("id"))
        channel = report_channel(services.settings, team)
        if not channel:
            if user:
                await _tell(client, user, FAILED.format(what=NO_CHANNEL))
            return
        try:
            await build_and_post(services, team, channel, client=client)
        except Exception as exc:
            if not isinstance(exc, ReportError):
                log.exception("Run report now failed")
            if user:
                await _tell(
                    client, user, FAILED.format(what=exc if isinstance(exc, ReportError) else type(exc).__name__)
                )
            return
        if user:
            await _tell(client, user, f"Posted the status report in <#{channel}>.")
