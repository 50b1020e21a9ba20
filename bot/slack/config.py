"""The "Configure sitrep" shortcut and menu, `/sitrep config`, Agent settings, and Test connections."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from agent.model_client import model_choices
from agent.services import Services
from bot.blocks.agent_settings import (
    AGENT_CALLBACK,
    BUDGET_BLOCK,
    MODEL_BLOCK,
    TYPED_MODEL_BLOCK,
    agent_patch,
    agent_settings_modal,
    read_agent_settings,
)
from bot.blocks.config_menu import (
    AGENT_ACTION,
    MENU_SHORTCUT,
    TEST_CONNECTIONS_ACTION,
    config_menu_modal,
    connections_modal,
    loading_modal,
    message_modal,
)
from bot.readiness import check_connections
from bot.slack.context import runtime_of
from bot.slack.home import publish_home
from bot.slack.modals import (
    admin_submission,
    open_for_admin,
    open_modal,
    redacted,
    show,
    slack_team_of,
)
from storage.team_config import ConfigInvalid
from storage.teams import Team

log = logging.getLogger(__name__)


def agent_values(services: Services, team: Team) -> dict:
    agents = team.config.agents
    return {
        "prompt": agents.planner.prompt.system,
        "coding": agents.coding.enabled,
        "model": agents.model,
        "default_model": services.settings.model,
        "choices": model_choices(services.settings),
        "budget": agents.daily_token_budget,
    }


async def on_menu(ack: AsyncAck, body: dict, client: AsyncWebClient) -> None:
    await ack()
    await client.views_open(trigger_id=body["trigger_id"], view=config_menu_modal())


async def on_open_agent(ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    services = runtime_of(context).services
    await ack()
    view_id = await open_for_admin(services, client, body, "Agent settings")
    if view_id is None:
        return
    team = await services.team_for(slack_team_of(body))
    view = await redacted(services, agent_settings_modal(**agent_values(services, team)))
    await client.views_update(view_id=view_id, view=view)


async def on_agent(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    if (admin := await admin_submission(ack, body, client, context)) is None:
        return
    runtime, team, user = admin
    services = runtime.services
    form = read_agent_settings((view.get("state") or {}).get("values") or {})
    patch = agent_patch(form, **agent_values(services, team))
    if not patch:
        await ack(response_action="update", view=message_modal("Agent settings", ["Nothing changed."]))
        return
    try:
        await runtime.services.storage.config.patch(team.id, patch, user)
    except ConfigInvalid as exc:
        budget = [p for p in exc.problems if p.startswith("agents.daily_token_budget")]
        others = [p for p in exc.problems if p not in budget]
        errors = {BUDGET_BLOCK: "; ".join(budget)[:1500]} if budget else {}
        if others:
            errors[TYPED_MODEL_BLOCK if form.typed else MODEL_BLOCK] = "; ".join(others)[:1500]
        await ack(response_action="errors", errors=errors)
        return
    log.info("agent settings changed by %s: %s", user, ", ".join(patch["agents"]))
    changed = ", ".join(f"`agents.{key}`" for key in patch["agents"])
    saved = message_modal("Agent settings", [f":white_check_mark: Saved {changed}."])
    await ack(response_action="update", view=saved)
    await publish_home(runtime, client, user, slack_team_of(body))


async def on_test(ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    runtime = runtime_of(context)
    services = runtime.services
    await ack()
    view_id = await open_modal(client, body, loading_modal("Test connections"))
    team = await services.team_for(slack_team_of(body))
    results = await check_connections(runtime, team, client)
    await show(client, view_id, await redacted(services, connections_modal(results)))


def register(app: AsyncApp) -> None:
    app.shortcut(MENU_SHORTCUT)(on_menu)
    app.action(AGENT_ACTION)(on_open_agent)
    app.view(AGENT_CALLBACK)(on_agent)
    app.action(TEST_CONNECTIONS_ACTION)(on_test)
