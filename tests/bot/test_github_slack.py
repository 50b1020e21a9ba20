"""Link GitHub from the Home tab, as an admin would through Slack (local fakes of Slack, GitHub and Grafana):
the modal lists the App's installations and their repositories; saving routes `mochacare/web`, audited; the
GitHub row then reads Ready. Members cannot; `@sitrep review <PR URL>` reviews on demand in the thread."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.blocks.github import CHANNEL_BLOCK, REPOS_BLOCK, link_modal
from bot.blocks.limits import view_violations
from bot.readiness import readiness_table
from bot.runtime import Runtime
from bot.slack.run import serve
from skills.base import ReadinessStatus
from storage.github import GitHubStore
from tests.fakes.slack import FakeSlack
from tests.support.github_world import INSTALLATION, REPO, World, github_world, route_pull_files

ADMIN, MEMBER = "UADMIN", "UMEMBER"


@dataclass
class SlackWorld:
    slack: FakeSlack
    w: World


@pytest.fixture
async def sw(tmp_path: Path) -> AsyncIterator[SlackWorld]:
    users = {ADMIN: {"name": "ops-lead", "is_admin": True}, MEMBER: {"name": "dev"}}
    async with FakeSlack(users=users) as slack:
        env = {"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_APP_TOKEN": slack.app_token, "SLACK_API_URL": slack.api_url}
        async with github_world(tmp_path, link=False, route=False, SITREP_HTTP_PORT="0", **env) as w:
            stop = asyncio.Event()
            task = asyncio.create_task(serve(Runtime(w.services), stop=stop))
            try:
                await slack.wait_connected()
                yield SlackWorld(slack, w)
            finally:
                stop.set()
                await asyncio.wait_for(task, 5)


def text(view: dict) -> str:
    return json.dumps(view.get("blocks", []), ensure_ascii=False)


async def open_link(slack: FakeSlack, user: str) -> dict:
    mark = len(slack.calls)
    await slack.send_interactive(
        {
            "type": "block_actions",
            "user": {"id": user},
            "actions": [{"action_id": "link_github", "type": "button"}],
            "view": {"id": "VHOME", "type": "home"},
            "container": {"type": "view", "view_id": "VHOME"},
        }
    )
    await slack.wait_for_call("views.open", since=mark)
    update = await slack.wait_for_call("views.update", since=mark)
    return {**update.args["view"], "id": update.args["view_id"]}


async def test_admin_links_the_app_and_routes_mochacare_web(sw: SlackWorld) -> None:
    slack, w = sw.slack, sw.w
    team = await w.team()
    row = {r.integration: r for r in await readiness_table(Runtime(w.services), team)}["GitHub"]
    assert row.status is ReadinessStatus.BLOCKED and "no installation" in row.missing and "link_github" in row.actions

    view = await open_link(slack, ADMIN)
    assert view["callback_id"] == "github_link_submit"
    assert "https://github.com/apps/sitrep-test/installations/new" in text(view)
    assert f"mochacare (installation {INSTALLATION})" in text(view) and REPO in text(view)
    assert w.github.seen("GET", "/app/installations")

    mark = len(slack.calls)
    values = {
        REPOS_BLOCK: {"repos": {"type": "multi_static_select", "selected_options": [{"value": REPO}]}},
        CHANNEL_BLOCK: {"channel": {"type": "conversations_select", "selected_conversation": "C0PRNOTES"}},
    }
    envelope = await slack.send_interactive(
        {"type": "view_submission", "user": {"id": ADMIN}, "view": {**view, "state": {"values": values}}}
    )
    assert (await slack.wait_ack(envelope))["payload"]["response_action"] == "update"
    done = await slack.wait_for_call("views.update", lambda c: "Linked" in text(c.args["view"]), since=mark)
    assert REPO in text(done.args["view"])

    team = await w.team()
    assert team.config.routing.github_repos == [REPO] and team.config.routing.channels == ["C0PRNOTES"]
    link = await GitHubStore(w.services.storage.db).installation(team.id)
    assert link is not None and link.installation_id == INSTALLATION
    actions = [e.action for e in await w.services.storage.audit.recent(team.id)]
    assert "config.patch" in actions and "github.link" in actions

    row = {r.integration: r for r in await readiness_table(Runtime(w.services), team)}["GitHub"]
    assert row.status is ReadinessStatus.READY, row
    assert "polling every 60 s" in row.detail and "no review posted yet" in row.detail


async def test_members_cannot_link(sw: SlackWorld) -> None:
    view = await open_link(sw.slack, MEMBER)
    assert "Only workspace admins" in text(view)
    assert await GitHubStore(sw.w.services.storage.db).installation("default") is None


async def test_review_on_demand_from_slack_answers_in_the_thread(sw: SlackWorld) -> None:
    slack, w = sw.slack, sw.w
    await w.services.storage.config.patch("default", {"routing": {"github_repos": [REPO]}}, "t")
    await GitHubStore(w.services.storage.db).link("default", INSTALLATION, "mochacare", "t")
    w.github.add_pull(REPO, 41, route_pull_files())
    mark = len(slack.calls)
    await slack.send_event(
        {
            "type": "app_mention",
            "user": MEMBER,
            "channel": "C0DEV",
            "ts": "1700000000.000100",
            "text": f"<@{slack.bot_user_id}> review https://github.com/{REPO}/pull/41",
        }
    )
    reply = await slack.wait_for_call(
        "chat.postMessage", lambda c: "pullrequestreview" in json.dumps(c.args), since=mark, timeout=20
    )
    assert reply.args.get("thread_ts") == "1700000000.000100"
    assert len(w.github.repo(REPO).reviews) == 1


def test_link_modal_fits_slack_limits() -> None:
    installations = [{"id": i, "account": {"login": f"org-{i}" * 10}} for i in range(150)]
    view = link_modal(
        install_url="https://github.com/apps/x/installations/new",
        with_state=False,
        installations=installations,
        picked=1,
        repos=[f"org/repo-{i}" for i in range(300)],
        routed=["org/repo-1"],
        channel=None,
    )
    assert view_violations(view) == []
    assert len(view["blocks"][1]["elements"][0]["options"]) == 100


async def test_pr_note_goes_to_the_teams_channel_through_slack(sw: SlackWorld) -> None:
    from bot.github_web import slack_notifier
    from bot.runtime import Runtime
    from review.pipeline import review_pull

    slack, w = sw.slack, sw.w
    await w.services.storage.config.patch(
        "default", {"routing": {"github_repos": [REPO], "channels": ["C0PRNOTES"]}}, "t"
    )
    await GitHubStore(w.services.storage.db).link("default", INSTALLATION, "mochacare", "t")
    pr = w.github.add_pull(REPO, 42, route_pull_files(), title="Run agents with a timeout")
    runtime = Runtime(w.services)
    notify = slack_notifier(runtime)
    assert notify is not None
    mark = len(slack.calls)
    try:
        out = await review_pull(w.services, await w.team(), REPO, 42, head_sha=pr.head_sha, notify=notify)
    finally:
        await runtime.close()
    note = await slack.wait_for_call("chat.postMessage", lambda c: c.args.get("channel") == "C0PRNOTES", since=mark)
    assert out.url and out.url in note.args["text"] and "mochacare/web#42" in note.args["text"]
    assert len(note.args["text"].splitlines()) == 1
