"""Instrument from the Home tab, through Slack as an admin would (local fakes of Slack, GitHub and Amplitude): the
Amplitude row offers "Instrument mochacare/web" to admins only while the app sends no events; the modal shows the
scan's progress, then the preview of every point; confirming opens the pull request; a fork is refused with
nothing pushed; the row then names the pull request."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.blocks.limits import view_violations
from bot.runtime import Runtime
from bot.slack.run import serve
from skills.amplitude.instrument.publish import BRANCH
from tests.fakes.amplitude import FakeAmplitude
from tests.fakes.slack import FakeSlack
from tests.support import nextjs_repo
from tests.support.github_world import REPO, World, github_world

ADMIN, MEMBER = "UADMIN", "UMEMBER"


@dataclass
class SlackWorld:
    slack: FakeSlack
    w: World
    amp: FakeAmplitude


@pytest.fixture
async def sw(tmp_path: Path) -> AsyncIterator[SlackWorld]:
    users = {ADMIN: {"name": "ops-lead", "is_admin": True}, MEMBER: {"name": "dev"}}
    async with FakeSlack(users=users) as slack, FakeAmplitude() as amp:
        env = {"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_APP_TOKEN": slack.app_token, "SLACK_API_URL": slack.api_url}
        async with github_world(tmp_path, amplitude=amp, SITREP_HTTP_PORT="0", **env) as w:
            w.github.repo(REPO).seed(nextjs_repo.files())
            stop = asyncio.Event()
            task = asyncio.create_task(serve(Runtime(w.services), stop=stop))
            try:
                await slack.wait_connected()
                yield SlackWorld(slack, w, amp)
            finally:
                stop.set()
                await asyncio.wait_for(task, 5)


def text(view: dict) -> str:
    return json.dumps(view.get("blocks", []), ensure_ascii=False)


async def home(slack: FakeSlack, user: str) -> dict:
    mark = len(slack.calls)
    await slack.send_event({"type": "app_home_opened", "user": user, "tab": "home"})
    call = await slack.wait_for_call("views.publish", lambda c: c.args.get("user_id") == user, since=mark)
    return call.args["view"]


def amplitude_buttons(view: dict) -> list[dict]:
    blocks = view["blocks"]
    for i, block in enumerate(blocks):
        if block["type"] == "section" and "*Amplitude*" in block["text"]["text"]:
            following = blocks[i + 1] if i + 1 < len(blocks) else {}
            return following.get("elements", []) if following.get("type") == "actions" else []
    raise AssertionError("no Amplitude row")


async def press(slack: FakeSlack, user: str, button: dict) -> dict:
    """Press the button; the modal as it stands once the preview (or a refusal) is shown."""
    mark = len(slack.calls)
    await slack.send_interactive(
        {
            "type": "block_actions",
            "user": {"id": user},
            "actions": [{"action_id": button["action_id"], "type": "button", "value": button["value"]}],
            "view": {"id": "VHOME", "type": "home"},
            "container": {"type": "view", "view_id": "VHOME"},
        }
    )
    opened = await slack.wait_for_call("views.open", since=mark)
    assert "Checking" in text(opened.args["view"])
    final = await slack.wait_for_call(
        "views.update",
        lambda c: any(w in text(c.args["view"]) for w in ("point", "Nothing was pushed", "Only workspace admins")),
        since=mark,
        timeout=20,
    )
    return {**final.args["view"], "id": final.args["view_id"]}


async def test_admin_previews_then_opens_the_pull_request(sw: SlackWorld) -> None:
    slack, w = sw.slack, sw.w
    member_buttons = amplitude_buttons(await home(slack, MEMBER))
    assert [b["action_id"] for b in member_buttons] == ["amplitude_snippet", "configure_amplitude"]
    [button] = [b for b in amplitude_buttons(await home(slack, ADMIN)) if "Instrument" in b["text"]["text"]]
    assert button["text"]["text"] == f"Instrument {REPO}" and button["value"] == REPO

    mark = len(slack.calls)
    preview = await press(slack, ADMIN, button)
    progress = [c for c in slack.calls[mark:] if c.method == "views.update" and "Reading" in text(c.args["view"])]
    assert progress, "the scan's progress is shown in the modal"
    assert view_violations(preview) == []
    assert preview["callback_id"] == "amplitude_instrument_submit"
    body = text(preview)
    assert "7 points in 4 files" in body and "Open pull request" in json.dumps(preview["submit"])
    for path in ("app/api/agents/[id]/run/route.ts", "pages/api/legacy/summarize.js", "lib/agents/runner.ts"):
        assert path in body
    assert "line 14: *API Error*, since /api/agents/[id]/run answers 500" in body
    assert "AMPLITUDE_API_KEY" in body and "already sends API Error" in body
    assert not w.github.repo(REPO).pulls and BRANCH not in w.github.repo(REPO).refs  # nothing written yet

    mark = len(slack.calls)
    envelope = await slack.send_interactive({"type": "view_submission", "user": {"id": ADMIN}, "view": preview})
    assert (await slack.wait_ack(envelope))["payload"]["response_action"] == "update"
    done = await slack.wait_for_call("views.update", lambda c: "Opened" in text(c.args["view"]), since=mark, timeout=20)
    [pr] = w.github.repo(REPO).pulls.values()
    assert pr.head_ref == BRANCH and f"{REPO}#{pr.number}" in text(done.args["view"])
    assert w.github.repo(REPO).files_at(BRANCH)["lib/agents/runner.ts"] == nextjs_repo.EXPECTED_RUNNER
    # the Home tab is published again: the Amplitude row names the pull request to merge
    republished = await slack.wait_for_call("views.publish", lambda c: c.args.get("user_id") == ADMIN, since=mark)
    assert f"merge and deploy {REPO}#{pr.number}" in text(republished.args["view"])
    actions = [e.action for e in await w.services.storage.audit.recent("default")]
    assert "amplitude.instrument" in actions

    # the first events arrive once it is deployed: Ready, and which pull request did it
    sw.amp.add_events("Agent Started", datetime.now(UTC).date(), 3)
    ready = text(await home(slack, ADMIN))
    assert "events flowing" in ready and f"instrumented by {REPO}#{pr.number}" in ready
    assert all("Instrument" not in b["text"]["text"] for b in amplitude_buttons(await home(slack, ADMIN)))


async def test_members_are_refused(sw: SlackWorld) -> None:
    button = {"action_id": "amplitude_instrument:0", "value": REPO}
    view = await press(sw.slack, MEMBER, button)
    assert "Only workspace admins" in text(view)
    assert not sw.w.github.seen("GET", "/git/trees/")


async def test_a_fork_is_refused_with_nothing_pushed(sw: SlackWorld) -> None:
    sw.w.github.repo(REPO).fork = True
    view = await press(sw.slack, ADMIN, {"action_id": "amplitude_instrument:0", "value": REPO})
    assert "is a fork" in text(view) and "Nothing was pushed" in text(view)
    assert not [s for s in sw.w.github.requests if s.method in ("POST", "PATCH") and "/access_tokens" not in s.path]


async def test_a_changed_plan_is_shown_again_instead_of_pushed(sw: SlackWorld) -> None:
    slack, w = sw.slack, sw.w
    preview = await press(slack, ADMIN, {"action_id": "amplitude_instrument:0", "value": REPO})
    meta = json.loads(preview["private_metadata"])
    tampered = {**preview, "private_metadata": json.dumps({**meta, "digest": "0" * 16})}
    mark = len(slack.calls)
    await slack.send_interactive({"type": "view_submission", "user": {"id": ADMIN}, "view": tampered})
    again = await slack.wait_for_call("views.update", lambda c: "differs" in text(c.args["view"]), since=mark)
    assert "nothing was pushed" in text(again.args["view"])
    assert not w.github.repo(REPO).pulls and BRANCH not in w.github.repo(REPO).refs
