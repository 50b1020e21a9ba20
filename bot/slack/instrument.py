"""Home tab → Amplitude row → "Instrument owner/name" (admins): a modal opens at once, shows the scan's progress
(views.update, at most one a second), then the preview; submitting opens (or updates) the pull request and shows
it. Anyone else gets who may; a fork, an archived repository or missing permissions get the reason, nothing pushed.

The submission builds the pull request from the commit the preview showed (pinned in the view's metadata), so
what was previewed is what is pushed. If sitrep stops mid-way, nothing half-made is visible: the branch moves
only after its commit is complete, and pressing the button again updates the same branch and pull request.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from agent.model_client import client as model_client
from agent.model_client import model_for, model_ready
from agent.services import Services
from bot.blocks.config_menu import not_allowed_modal
from bot.blocks.instrument import (
    SUBMIT_CALLBACK,
    done_modal,
    nothing_modal,
    preview_modal,
    progress_modal,
    refused_modal,
    submitted,
)
from bot.slack.admins import is_admin
from bot.slack.context import app_state, runtime_of
from bot.slack.home import publish_home
from bot.slack.modals import admin_or_refused, redacted, show, slack_team_of, user_of
from review.pipeline import github_skill
from skills.amplitude.instrument.claude import claude_proposer
from skills.amplitude.instrument.flow import Prepared, Proposer, open_pull_request, prepare
from skills.amplitude.instrument.publish import Refused
from skills.amplitude.readiness import INSTRUMENT_ACTION
from skills.base import SkillError
from skills.github.skill import GitHubSkill
from storage.teams import Team

log = logging.getLogger(__name__)

ACTION = re.compile(rf"^{INSTRUMENT_ACTION}(:\d+)?$")
PROGRESS_EVERY_S = 1.0


class Progress:
    """The scan's progress in the modal: at most one views.update a second, and always the last of each step."""

    def __init__(self, client: AsyncWebClient, view_id: str, repo: str) -> None:
        self.client, self.view_id, self.repo = client, view_id, repo
        self.last = 0.0

    async def __call__(self, what: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY_S and not (total and done == total):
            return
        self.last = now
        await show(self.client, self.view_id, progress_modal(self.repo, what, done, total))


async def proposer_for(services: Services, team: Team, github: GitHubSkill) -> Proposer | None:
    """Claude's proposal when Claude is set up (checked like the rules' edits), with the team's model (the one
    model rule); None: the rules alone. Every secret sitrep holds, the App's included, is cut out of what Claude
    is sent."""
    if not model_ready(services.settings):
        return None
    held = await services.secrets()
    model = model_for(services.settings, team)
    return claude_proposer(model_client(services), model, lambda: [*held, *github.secrets()])


class Previews:
    """The plans shown in preview modals, by digest, so a confirmation pushes exactly what was shown (Claude may
    answer differently twice). Kept in memory, a few at a time: after a restart, or on another replica, the
    plan is made again and pushed only if it is the same."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._plans: dict[str, Prepared] = {}

    def keep(self, prepared: Prepared) -> None:
        self._plans[prepared.plan.digest] = prepared
        while len(self._plans) > self.size:
            self._plans.pop(next(iter(self._plans)))

    def take(self, digest: str) -> Prepared | None:
        return self._plans.pop(digest, None)


async def _prepare(
    services: Services, team: Team, repo: str, client: AsyncWebClient, view_id: str, commit: str | None = None
) -> Prepared | dict:
    """The checked, scanned plan; or the modal that says why there is none."""
    skill = await github_skill(services, team)
    if skill is None or not skill.configured or skill.link is None:
        return refused_modal("GitHub is not linked to this team", "Use Link GitHub on the Home tab first")
    region = team.config.amplitude.region or services.settings.amplitude_region
    proposer = await proposer_for(services, team, skill)
    try:
        return await prepare(
            skill, repo, region=region, commit=commit, progress=Progress(client, view_id, repo), proposer=proposer
        )
    except SkillError as exc:
        return refused_modal(exc.message, exc.hint)
    except Exception as exc:  # the modal must never stay on its progress line
        log.exception("preparing the instrumentation of %s failed", repo)
        return refused_modal(f"the scan of {repo} failed ({type(exc).__name__})", "Check sitrep's log, then try again")


async def open_preview(
    ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    services = runtime_of(context).services
    previews = app_state(context, Previews)
    await ack()
    repo = str(action.get("value") or "")
    if not body.get("trigger_id") or not repo:
        return
    opened = await client.views_open(trigger_id=body["trigger_id"], view=progress_modal(repo, "Checking"))
    view_id = opened["view"]["id"]
    if not await is_admin(services, client, user_of(body)):
        await show(client, view_id, not_allowed_modal(services.settings.admins))
        return
    team = await services.team_for(slack_team_of(body))
    prepared = await _prepare(services, team, repo, client, view_id)
    if isinstance(prepared, dict):
        view = prepared
    elif prepared.plan.empty:
        view = nothing_modal(prepared.plan)
    else:
        previews.keep(prepared)
        view = preview_modal(prepared.plan, prepared.pull)
    await show(client, view_id, await redacted(services, view))


async def on_submit(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    runtime = runtime_of(context)
    services = runtime.services
    previews = app_state(context, Previews)
    user = user_of(body) or ""
    if not await admin_or_refused(services, client, ack, user):
        return
    repo, commit, digest = submitted(view)
    await ack(response_action="update", view=progress_modal(repo, "Opening the pull request"))
    team = await services.team_for(slack_team_of(body))
    shown = previews.take(digest)
    outcome = await _submit(services, team, (repo, commit, digest), user, client, str(view["id"]), shown)
    await show(client, str(view["id"]), await redacted(services, outcome))
    await publish_home(runtime, client, user, slack_team_of(body))


def register(app: AsyncApp) -> None:
    app.action(ACTION)(open_preview)
    app.view(SUBMIT_CALLBACK)(on_submit)


async def _submit(
    services: Services,
    team: Team,
    confirmed: tuple[str, str, str],
    user: str,
    client: AsyncWebClient,
    view_id: str,
    shown: Prepared | None,
) -> dict[str, Any]:
    repo, commit, digest = confirmed
    if shown is not None and shown.plan.repo.lower() == repo.lower():
        prepared: Prepared | dict = shown
    else:
        prepared = await _prepare(services, team, repo, client, view_id, commit=commit or None)
    if isinstance(prepared, dict):
        return prepared
    if prepared.plan.empty:
        return nothing_modal(prepared.plan)
    if prepared.plan.digest != digest:  # what would be pushed is not what was confirmed: show it again
        return preview_modal(prepared.plan, prepared.pull, changed=True)
    skill = await github_skill(services, team)
    assert skill is not None  # _prepare returned a plan, so GitHub is linked
    try:
        published = await open_pull_request(
            skill, prepared, store=services.storage.instrumentation, team_id=team.id, actor=user or "slack"
        )
    except Refused as exc:
        return refused_modal(exc.message, exc.hint)
    except SkillError as exc:
        return refused_modal(exc.message, exc.hint, pushed=True)
    except Exception as exc:  # as above
        log.exception("the instrumentation pull request of %s failed", repo)
        return refused_modal(
            f"opening the pull request failed ({type(exc).__name__})", "Check sitrep's log", pushed=True
        )
    verb = "opened" if published.opened else "updated"
    log.info("instrumentation pull request %s#%s %s by %s", repo, published.number, verb, user)
    return done_modal(published, prepared.plan)
