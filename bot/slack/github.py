"""Home tab → Link GitHub: an admin installs the App, picks the installation (listed with the App JWT), the
repositories to review and the channel for pull-request notes. Routing is saved through the audited config patch."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from agent.services import Services
from bot.blocks.config_menu import not_allowed_modal
from bot.blocks.credentials import result_modal
from bot.blocks.github import LINK_ACTION, PICK_INSTALLATION, REPOS_BLOCK, SUBMIT_CALLBACK, link_modal, submitted
from bot.github_setup import new_state
from bot.runtime import Runtime
from bot.slack.admins import is_admin
from bot.slack.context import runtime_of
from bot.slack.home import publish_home
from bot.slack.modals import admin_or_refused
from review.pipeline import github_skill, note_channel
from skills.base import SkillError
from skills.github.skill import webhook_mode
from storage.team_config import ConfigInvalid
from storage.teams import Team

log = logging.getLogger(__name__)


async def modal_for(services: Services, team: Team, user: str, picked: int | None = None) -> dict:
    """The Link GitHub modal with what GitHub says now; a result modal naming the problem when it cannot."""
    skill = await github_skill(services, team)
    if skill is None or not skill.configured:
        return result_modal(
            "Link GitHub",
            [
                "*The GitHub App is not configured.* Create a GitHub App (docs/github.md: permissions, events, "
                "setup URL), then set GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_APP_SLUG and restart sitrep."
            ],
        )
    with_state = webhook_mode(services.settings)
    state = await new_state(services, team.id, user) if with_state else None
    try:
        installations = await skill.client.installations()
    except SkillError as exc:
        return result_modal("Link GitHub", [f":no_entry: {exc.one_line()}"])
    if picked is None:
        picked = skill.link.installation_id if skill.link else None
        if picked is None and len(installations) == 1:
            picked = int(installations[0]["id"])
    repos: list[str] = []
    problem = ""
    if picked is not None:
        try:
            repos = [str(r["full_name"]) for r in await skill.client.installation_repos(picked)]
        except SkillError as exc:
            problem = exc.one_line()
    return link_modal(
        install_url=skill.install_url(state),
        with_state=with_state,
        installations=installations,
        picked=picked,
        repos=repos,
        routed=team.config.routing.github_repos,
        channel=note_channel(team, services.settings),
        problem=problem,
    )


async def open_link(ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    services = runtime_of(context).services
    await ack()
    if not body.get("trigger_id"):
        return
    opened = await client.views_open(trigger_id=body["trigger_id"], view=result_modal("Link GitHub", ["Loading…"]))
    view_id = opened["view"]["id"]
    user = (body.get("user") or {}).get("id") or ""
    if not await is_admin(services, client, user):
        await client.views_update(view_id=view_id, view=not_allowed_modal(services.settings.admins))
        return
    team = await services.team_for((body.get("team") or {}).get("id"))
    await client.views_update(view_id=view_id, view=await modal_for(services, team, user))


async def install_clicked(ack: AsyncAck) -> None:
    await ack()  # a URL button: the browser opens GitHub


async def pick(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    services = runtime_of(context).services
    await ack()
    user = (body.get("user") or {}).get("id") or ""
    if not await is_admin(services, client, user):
        return
    try:
        picked = int(((action.get("selected_option") or {}).get("value")) or "")
    except ValueError:
        return
    team = await services.team_for((body.get("team") or {}).get("id"))
    view = body.get("view")
    if not isinstance(view, dict) or not view.get("id"):
        return
    await client.views_update(
        view_id=view["id"], hash=view.get("hash"), view=await modal_for(services, team, user, picked)
    )


async def on_submit(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    runtime = runtime_of(context)
    services = runtime.services
    user = (body.get("user") or {}).get("id") or ""
    if not await admin_or_refused(services, client, ack, user):
        return
    installation, repos, channel = submitted(view)
    if installation is None or not repos:
        await ack(response_action="errors", errors={REPOS_BLOCK: "Pick at least one repository to review."})
        return
    await ack(response_action="update", view=result_modal("Link GitHub", ["Checking with GitHub…"]))
    team = await services.team_for((body.get("team") or {}).get("id"))
    lines = await save_link(runtime, team, installation, repos, channel, user)
    await client.views_update(view_id=view["id"], view=result_modal("Link GitHub", lines))
    await publish_home(runtime, client, user, (body.get("team") or {}).get("id"))


def register(app: AsyncApp) -> None:
    app.action(LINK_ACTION)(open_link)
    app.action("github_install_link")(install_clicked)
    app.action(PICK_INSTALLATION)(pick)
    app.view(SUBMIT_CALLBACK)(on_submit)


async def save_link(
    runtime: Runtime, team: Team, installation: int, repos: list[str], channel: str | None, user: str
) -> list[str]:
    """Confirm the installation and its repositories with GitHub, then link and route. Lines for the result."""
    services = runtime.services
    skill = await github_skill(services, team)
    if skill is None or not skill.configured:
        return [":no_entry: The GitHub App is not configured; nothing was changed."]
    try:
        inst = await skill.client.installation(installation)
        reachable = {
            str(r["full_name"]).lower(): str(r["full_name"])
            for r in await skill.client.installation_repos(installation)
        }
    except SkillError as exc:
        return [f":no_entry: *Not saved.* {exc.one_line()}", "Nothing was changed."]
    unknown = [r for r in repos if r.lower() not in reachable]
    if unknown:
        return [f":no_entry: *Not saved.* The installation cannot see {', '.join(unknown)}.", "Nothing was changed."]
    account = str((inst.get("account") or {}).get("login") or "")
    patch: dict[str, Any] = {"routing": {"github_repos": [reachable[r.lower()] for r in repos]}}
    if channel:
        patch["routing"]["channels"] = [channel]
    try:
        await runtime.services.storage.config.patch(team.id, patch, actor=user or "slack")
    except ConfigInvalid as exc:
        return [f":no_entry: *Not saved.* {exc}", "Nothing was changed."]
    await services.storage.github.link(team.id, installation, account, user or "slack")
    log.info("GitHub installation %s (%s) linked to %s by %s, routing %s", installation, account, team.id, user, repos)
    where = f" Notes go to <#{channel}>." if channel else ""
    return [
        f":white_check_mark: *Linked* to the App's installation on *{account}*.",
        f"Reviewing pull requests of {', '.join(patch['routing']['github_repos'])}.{where}",
    ]
