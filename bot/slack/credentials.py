"""Home tab → Configure: an admin enters an integration's credentials; they are checked, then stored encrypted."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from agent.services import Services
from bot.blocks.config_menu import not_allowed_modal
from bot.blocks.credentials import (
    FORMS,
    SUBMIT_CALLBACK,
    IntegrationForm,
    credentials_modal,
    result_modal,
    submitted_values,
)
from bot.runtime import Runtime
from bot.slack.admins import is_admin
from bot.slack.context import runtime_of
from bot.slack.home import publish_home
from bot.slack.modals import admin_or_refused, open_modal, show
from skills.base import Readiness, SkillContext
from skills.readiness import STATUS_LABEL, skill_readiness
from skills.registry import factory_for
from skills.vercel_drain import drain_url
from storage.audit import mask
from storage.teams import Team

log = logging.getLogger(__name__)

CONFIGURE_ACTIONS = {f"configure_{name}": name for name in FORMS}
NOT_SAVED_SIGNS = ("rejected", "did not answer", "cannot reach", "could not reach")


class _Overlay:
    """The stored credentials with the submitted ones on top: what the skill would see after saving."""

    def __init__(self, services: Services, integration: str, values: Mapping[str, str]) -> None:
        self.services, self.integration, self.values = services, integration, values

    async def get_all(self, team_id: str, integration: str) -> dict[str, str]:
        stored = await self.services.storage.credentials.get_all(team_id, integration)
        return {**stored, **self.values} if integration == self.integration else stored


def validate(form: IntegrationForm, values: Mapping[str, str], stored: Mapping[str, str]) -> dict[str, str]:
    """Errors by block id: required secrets that are neither entered nor stored, and malformed URLs."""
    errors: dict[str, str] = {}
    for field in form.fields:
        value = values.get(field.name)
        if field.name.startswith("config:"):
            continue
        if not value and not stored.get(field.name) and not field.optional:
            errors[field.block_id] = f"Enter the {field.label.lower()}."
        elif value and field.name in ("url", "loki_push_url"):
            parsed = urlparse(value)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                errors[field.block_id] = "Enter the full URL, like https://mochacare.grafana.net"
        elif value and (len(value) > 4096 or any(c.isspace() for c in value)):
            errors[field.block_id] = "That does not look like a key: it has spaces or is too long."
    return errors


async def probe(services: Services, team: Team, form: IntegrationForm, values: Mapping[str, str]) -> Readiness:
    """The readiness row the integration would have with these values, without storing anything."""
    secrets = {k: v for k, v in values.items() if not k.startswith("config:")}
    ctx = SkillContext(
        settings=services.settings,
        team=team,
        credentials=_Overlay(services, form.integration, secrets),
        storage=services.storage,
    )
    skill = await factory_for(form.integration)(ctx)
    try:
        return await skill_readiness(skill)
    finally:
        await skill.aclose()


def rejected(row: Readiness) -> bool:
    text = f"{row.missing} {row.detail}".lower()
    return not row.ready and any(sign in text for sign in NOT_SAVED_SIGNS)


async def save(runtime: Runtime, team: Team, form: IntegrationForm, values: Mapping[str, str], actor: str) -> None:
    services = runtime.services
    patch: dict[str, Any] = {}
    for name, value in values.items():
        if name.startswith("config:"):
            node = patch
            *parents, leaf = name.removeprefix("config:").split(".")
            for key in parents:
                node = node.setdefault(key, {})
            node[leaf] = value
        else:
            await services.storage.credentials.set(team.id, form.integration, name, value, actor)
    if patch:
        await runtime.services.storage.config.patch(team.id, patch, actor)


def drain_note(services: Services) -> str:
    """Where Vercel's drain goes: sitrep's relay (Loki takes only its own push format, not Vercel's)."""
    url = drain_url(services.settings.public_url)
    if url is None:
        return (
            "*Vercel log drain:* set SITREP_PUBLIC_URL to sitrep's public https address first; the drain URL is "
            "`$SITREP_PUBLIC_URL/drains/vercel`."
        )
    return f"*Vercel log drain:* paste `{url}` into Vercel → Team Settings → Drains → Add Drain (custom endpoint)."


async def open_form(ack: AsyncAck, body: dict, client: AsyncWebClient, action: dict, context: AsyncBoltContext) -> None:
    services = runtime_of(context).services
    await ack()
    form = FORMS[CONFIGURE_ACTIONS[action["action_id"]]]
    # trigger_id lives 3 s: open first (on top of the Configure menu when pressed there), then check who asks.
    view_id = await open_modal(client, body, result_modal(form.title, ["Loading…"]))
    if not await is_admin(services, client, (body.get("user") or {}).get("id")):
        await client.views_update(view_id=view_id, view=not_allowed_modal(services.settings.admins))
        return
    team = await services.team_for((body.get("team") or {}).get("id"))
    stored = await services.storage.credentials.get_all(team.id, form.integration)
    shown = {f.name for f in form.fields if not f.secret}
    current = {name: value if name in shown else mask(value) for name, value in stored.items()}
    if form.integration == "amplitude":
        current["config:amplitude.region"] = team.config.amplitude.region or services.settings.amplitude_region
    notes = [drain_note(services)] if form.integration == "grafana" else []
    await client.views_update(view_id=view_id, view=credentials_modal(form, current, notes=notes))


async def on_submit(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    runtime = runtime_of(context)
    services = runtime.services
    user = (body.get("user") or {}).get("id")
    form = _form_of(view)
    if form is None:  # not a modal sitrep opened (or its metadata was tampered with): nothing to save
        await ack()
        return
    if not await admin_or_refused(services, client, ack, user):
        return
    team = await services.team_for((body.get("team") or {}).get("id"))
    state = view.get("state")
    values = submitted_values(form, _mapping(_mapping(state).get("values")))
    stored = await services.storage.credentials.get_all(team.id, form.integration)
    errors = validate(form, values, stored)
    if errors:
        await ack(response_action="errors", errors=errors)
        return
    await ack(response_action="update", view=result_modal(form.title, [f"Checking with {form.title}…"]))
    view_id = view["id"]
    row = await probe(services, team, form, values)
    if rejected(row):
        lines = [
            f":no_entry: *Not saved*: {form.title} answered: {row.missing}.",
            f"*Next:* {row.next_step}",
            "Open Configure again to retry; nothing was changed.",
        ]
        await show(client, view_id, result_modal(form.title, lines))
        return
    await save(runtime, team, form, values, actor=user or "slack")
    if runtime.drain is not None:
        runtime.drain.invalidate()
    log.info("%s credentials updated by %s", form.title, user)
    lines = [f":white_check_mark: *Saved.* {form.title} is now: *{STATUS_LABEL[row.status]}*."]
    if row.detail:
        lines.append(row.detail)
    if not row.ready:
        lines += [f"*Missing:* {row.missing}", f"*Next step:* {row.next_step}"]
    await show(client, view_id, result_modal(form.title, lines))  # the save stands if the modal was closed
    if user:
        await publish_home(runtime, client, user, (body.get("team") or {}).get("id"))


def register(app: AsyncApp) -> None:
    for action_id in CONFIGURE_ACTIONS:
        app.action(action_id)(open_form)
    app.view(SUBMIT_CALLBACK)(on_submit)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _form_of(view: Mapping[str, Any]) -> IntegrationForm | None:
    """The form a submitted credentials modal belongs to, from its private_metadata; None when it is not one."""
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except (TypeError, ValueError):
        return None
    integration = _mapping(metadata).get("integration")
    return FORMS.get(integration) if isinstance(integration, str) else None
