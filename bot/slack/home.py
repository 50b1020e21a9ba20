"""The Home tab: published on app_home_opened and on the Refresh button."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.home import REFRESH_ACTION, home_view
from bot.blocks.snippet import SNIPPET_CALLBACK_ID as SNIPPET_ACTION
from bot.blocks.snippet import snippet_modal
from bot.readiness import readiness_table
from bot.services import Services

log = logging.getLogger(__name__)


async def publish_home(services: Services, client: AsyncWebClient, user_id: str, slack_team_id: str | None) -> None:
    team = await services.team_for(slack_team_id)
    rows = await readiness_table(services, team)
    tz_name = team.config.reports.timezone or services.settings.timezone
    view = home_view(rows, generated_at=datetime.now(ZoneInfo(tz_name)), timezone_name=tz_name)
    try:
        await client.views_publish(user_id=user_id, view=view)
    except SlackApiError as exc:
        log.error("views.publish for %s failed: %s", user_id, exc.response.get("error"))


def register(app: AsyncApp, services: Services) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(event: dict, body: dict, client: AsyncWebClient) -> None:
        user = event.get("user")
        if event.get("tab", "home") != "home" or not user:
            return
        await publish_home(services, client, user, body.get("team_id"))

    @app.action(SNIPPET_ACTION)
    async def on_snippet(ack: AsyncAck, body: dict, client: AsyncWebClient) -> None:
        await ack()
        team = await services.team_for((body.get("team") or {}).get("id"))
        region = team.config.amplitude.region or services.settings.amplitude_region
        # the builder is pure and fast: the modal opens well inside the trigger's 3 s
        await client.views_open(trigger_id=body["trigger_id"], view=snippet_modal(region=region))

    @app.action(REFRESH_ACTION)
    async def on_refresh(ack: AsyncAck, body: dict, client: AsyncWebClient) -> None:
        await ack()
        user = (body.get("user") or {}).get("id")
        if user:
            await publish_home(services, client, user, (body.get("team") or {}).get("id"))
